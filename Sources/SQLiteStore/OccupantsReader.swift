import BookingDomain
import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// Runs the availability read, ``SQLiteStore/occupantsSQL``, on read-only connections of its own to a file database,
/// on the calling thread, with the statement prepared once per connection.
///
/// GRDB's pool would hand each read to a reader's dispatch queue and back and check the schema version before it,
/// which cost an availability answer more than the statement itself. The statement runs outside a transaction, on a
/// snapshot of its own, as SQLite runs every lone statement. Connections are opened when no idle one is left, and up
/// to `keptIdle` of them are kept for the next reads; one whose read failed is closed. A read blocks its thread for
/// the statement only, or while SQLite waits out a lock within the busy timeout (recovering the WAL after a crash).
final class OccupantsReader: Sendable {
    private let path: String
    private let busyTimeoutMilliseconds: Int32
    private let keptIdle: Int
    private let idle = Mutex(IdleConnections())

    /// The connections waiting for a read, and whether the store was closed.
    private struct IdleConnections {
        var connections: [Connection] = []
        var isClosed = false
    }

    /// Reads the database at `path` (absolute: connections are opened as reads need them), waiting up to
    /// `busyTimeout` for a lock, and keeping up to `keptIdle` connections open between reads.
    init(path: String, busyTimeout: Duration, keptIdle: Int) {
        self.path = path
        let (seconds, attoseconds) = busyTimeout.components
        busyTimeoutMilliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        self.keptIdle = max(1, keptIdle)
    }

    /// The booked appointments and live holds of `resource` whose occupied intervals overlap `window`, in no
    /// particular order.
    func occupants(resource: ResourceID, overlapping window: TimeSlot, now: Int64) throws(BookingError)
        -> [SlotOccupant]
    {
        let (isClosed, idleConnection) = idle.withLock { idle in (idle.isClosed, idle.connections.popLast()) }
        guard !isClosed else { throw .storeUnavailable("the store is closed") }
        let connection: Connection
        if let idleConnection {
            connection = idleConnection
        } else {
            connection = try Connection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        }
        let occupants = try connection.occupants(resource: resource, overlapping: window, now: now)
        let surplus = idle.withLock { idle -> Connection? in
            guard !idle.isClosed, idle.connections.count < keptIdle else { return connection }
            idle.connections.append(connection)
            return nil
        }
        _ = surplus  // closed here, outside the lock
        return occupants
    }

    /// How many connections wait for a read.
    var idleConnectionCount: Int { idle.withLock { $0.connections.count } }

    /// Closes the idle connections; one still reading is closed when its read ends, and later reads throw
    /// `storeUnavailable`.
    func close() {
        let closing = idle.withLock { idle in
            idle.isClosed = true
            defer { idle.connections = [] }
            return idle.connections
        }
        _ = closing
    }
}

/// One read-only SQLite connection with the occupants statement prepared on it, used by one read at a time.
private final class Connection: @unchecked Sendable {
    private let handle: OpaquePointer
    private let statement: OpaquePointer
    private let resource, start, end, lookBack, now: Int32

    /// Opens the file read-only and prepares ``SQLiteStore/occupantsSQL``.
    init(path: String, busyTimeoutMilliseconds: Int32) throws(BookingError) {
        var opened: OpaquePointer?
        let code = sqlite3_open_v2(path, &opened, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        guard let opened else { throw .storeUnavailable("the database file cannot be opened") }
        guard code == SQLITE_OK else {
            defer { sqlite3_close_v2(opened) }
            throw Self.error(code, on: opened)
        }
        sqlite3_extended_result_codes(opened, 1)
        sqlite3_busy_timeout(opened, busyTimeoutMilliseconds)
        var prepared: OpaquePointer?
        let prepareCode = sqlite3_prepare_v3(
            opened, SQLiteStore.occupantsSQL, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
        guard prepareCode == SQLITE_OK, let prepared else {
            defer { sqlite3_close_v2(opened) }
            throw Self.error(prepareCode, on: opened)
        }
        handle = opened
        statement = prepared
        func index(_ name: String) -> Int32 { sqlite3_bind_parameter_index(prepared, name) }
        (resource, start, end) = (index(":resource"), index(":start"), index(":end"))
        (lookBack, now) = (index(":lookBack"), index(":now"))
    }

    deinit {
        sqlite3_finalize(statement)
        sqlite3_close_v2(handle)
    }

    /// Runs the statement for `resource` and `window` at `now`, reading each row in place.
    func occupants(resource: ResourceID, overlapping window: TimeSlot, now: Int64) throws(BookingError)
        -> [SlotOccupant]
    {
        defer { sqlite3_reset(statement) }
        let windowStart = window.start.millisecondsSince1970
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        sqlite3_bind_text(statement, self.resource, resource.rawValue, -1, transient)
        sqlite3_bind_int64(statement, start, windowStart)
        sqlite3_bind_int64(statement, end, window.end.millisecondsSince1970)
        sqlite3_bind_int64(statement, lookBack, windowStart - SQLiteStore.longestHeldInterval)
        sqlite3_bind_int64(statement, self.now, now)
        // :moving and :using are never bound, so NULL: a read leaves nothing out.
        var occupants: [SlotOccupant] = []
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { return occupants }
            guard code == SQLITE_ROW else { throw Self.error(code, on: handle) }
            let slot = try TimeSlot(start: instant(column: 0), end: instant(column: 1))
            let occupied = try TimeSlot(start: instant(column: 2), end: instant(column: 3))
            let holdExpiresAt = sqlite3_column_type(statement, 5) == SQLITE_NULL ? nil : instant(column: 5)
            occupants.append(SlotOccupant(slot: slot, occupied: occupied, holdExpiresAt: holdExpiresAt))
        }
    }

    private func instant(column: Int32) -> Date {
        Date(millisecondsSince1970: sqlite3_column_int64(statement, column))
    }

    /// The `BookingError` for SQLite's result `code`, as the store maps GRDB's errors.
    private static func error(_ code: Int32, on handle: OpaquePointer) -> BookingError {
        let message = sqlite3_errmsg(handle).map { String(cString: $0) }
        return SQLiteStore.map(DatabaseError(resultCode: ResultCode(rawValue: code), message: message))
    }
}
