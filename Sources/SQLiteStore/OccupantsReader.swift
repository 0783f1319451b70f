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
/// snapshot of its own, as SQLite runs every lone statement.
///
/// At most `connectionLimit` connections are opened, as reads need them, and each is kept for the next reads; one
/// whose read failed is closed. A read never waits: it answers `nil`, for the caller to read through GRDB instead,
/// when every connection is reading or when SQLite finds the file locked (a process keeping it in exclusive locking
/// mode, or recovering its WAL after a crash), so the calling thread is held for the statement only, and for opening
/// and preparing a connection the first time.
final class OccupantsReader: Sendable {
    private let path: String
    private let connectionLimit: Int
    private let state = Mutex(Connections())

    /// The connections waiting for a read, how many are open in all, and whether the store was closed.
    private struct Connections {
        var idle: [Connection] = []
        var openCount = 0
        var isClosed = false
    }

    /// What a read starts from.
    private enum Start {
        case idle(Connection)
        case opening
        case allBusy
        case closed
    }

    /// Reads the database at `path` (absolute: connections are opened as reads need them) on at most
    /// `connectionLimit` connections (with none, every read declines).
    init(path: String, connectionLimit: Int) {
        self.path = path
        self.connectionLimit = max(0, connectionLimit)
    }

    /// The booked appointments and live holds of `resource` whose occupied intervals overlap `window`, in no
    /// particular order; `nil` when every connection is reading or the file is locked.
    func occupants(resource: ResourceID, overlapping window: TimeSlot, now: Int64) throws(BookingError)
        -> [SlotOccupant]?
    {
        let start = state.withLock { state -> Start in
            if state.isClosed { return .closed }
            if let connection = state.idle.popLast() { return .idle(connection) }
            guard state.openCount < connectionLimit else { return .allBusy }
            state.openCount += 1
            return .opening
        }
        let connection: Connection
        switch start {
        case .closed: throw .storeUnavailable("the store is closed")
        case .allBusy: return nil
        case .idle(let idle): connection = idle
        case .opening:
            let opened: Connection?
            do {
                opened = try Connection(path: path)
            } catch {
                state.withLock { $0.openCount -= 1 }
                throw error
            }
            guard let opened else {
                state.withLock { $0.openCount -= 1 }
                return nil
            }
            connection = opened
        }
        do {
            let occupants = try connection.occupants(resource: resource, overlapping: window, now: now)
            giveBack(connection)
            return occupants
        } catch {
            state.withLock { $0.openCount -= 1 }  // the connection closes as it goes
            throw error
        }
    }

    /// Keeps `connection` for the next read, or closes it (outside the lock) once the store is closed.
    private func giveBack(_ connection: Connection) {
        let closing = state.withLock { state -> Connection? in
            guard !state.isClosed else {
                state.openCount -= 1
                return connection
            }
            state.idle.append(connection)
            return nil
        }
        _ = closing
    }

    /// How many connections are open, reading or idle.
    var openConnectionCount: Int { state.withLock { $0.openCount } }

    /// How many connections wait for a read.
    var idleConnectionCount: Int { state.withLock { $0.idle.count } }

    /// Closes the idle connections; one still reading is closed when its read ends, and later reads throw
    /// `storeUnavailable`.
    func close() {
        let closing = state.withLock { state in
            state.isClosed = true
            state.openCount -= state.idle.count
            defer { state.idle = [] }
            return state.idle
        }
        _ = closing
    }
}

/// One read-only SQLite connection with the occupants statement prepared on it, used by one read at a time.
///
/// Its handle and statement stay behind a lock of their own, taken once per read: a connection has one holder at a
/// time (`OccupantsReader`'s idle list, or the one read that took it out), so the lock is never contended, and it
/// lets the compiler check what SQLITE_OPEN_NOMUTEX asks (no two threads using the connection at once).
private final class Connection: Sendable {
    /// The connection's handle and its prepared statement, finalized and closed when the connection goes.
    private struct Handles: ~Copyable {
        let handle: OpaquePointer
        let statement: OpaquePointer

        deinit {
            sqlite3_finalize(statement)
            sqlite3_close_v2(handle)
        }
    }

    private let sqlite: Mutex<Handles>
    private let resource, start, end, lookBack, now: Int32

    /// Opens the file read-only, with no busy timeout, and prepares ``SQLiteStore/occupantsSQL``; `nil` when the file
    /// is locked (preparing reads the schema).
    init?(path: String) throws(BookingError) {
        var opened: OpaquePointer?
        let code = sqlite3_open_v2(path, &opened, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        guard let opened else { throw .storeUnavailable("the database file cannot be opened") }
        guard code == SQLITE_OK else {
            defer { sqlite3_close_v2(opened) }
            throw Self.error(code, on: opened)
        }
        sqlite3_extended_result_codes(opened, 1)
        var prepared: OpaquePointer?
        let prepareCode = sqlite3_prepare_v3(
            opened, SQLiteStore.occupantsSQL, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &prepared, nil)
        guard prepareCode == SQLITE_OK, let prepared else {
            defer { sqlite3_close_v2(opened) }
            if prepareCode & 0xff == SQLITE_BUSY { return nil }
            throw Self.error(prepareCode, on: opened)
        }
        func index(_ name: String) -> Int32 { sqlite3_bind_parameter_index(prepared, name) }
        let indexes = [":resource", ":start", ":end", ":lookBack", ":now"].map(index)
        // Seven parameters, :moving and :using among them (never bound: NULL, so a read leaves nothing out).
        guard sqlite3_bind_parameter_count(prepared) == 7, index(":moving") > 0, index(":using") > 0,
            !indexes.contains(0)
        else {
            sqlite3_finalize(prepared)
            sqlite3_close_v2(opened)
            throw .storeUnavailable("the availability statement does not name its parameters")
        }
        (resource, start, end, lookBack, now) = (indexes[0], indexes[1], indexes[2], indexes[3], indexes[4])
        sqlite = Mutex(Handles(handle: opened, statement: prepared))
    }

    /// Runs the statement for `resource` and `window` at `now`, reading each row in place; `nil` when the file is
    /// locked.
    func occupants(resource: ResourceID, overlapping window: TimeSlot, now: Int64) throws(BookingError)
        -> [SlotOccupant]?
    {
        try sqlite.withLock { sqlite throws(BookingError) -> [SlotOccupant]? in
            let (handle, statement) = (sqlite.handle, sqlite.statement)
            defer { sqlite3_reset(statement) }
            let windowStart = window.start.millisecondsSince1970
            let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
            func bound(_ code: Int32) throws(BookingError) {
                if code != SQLITE_OK { throw Self.error(code, on: handle) }
            }
            try bound(sqlite3_bind_text(statement, self.resource, resource.rawValue, -1, transient))
            try bound(sqlite3_bind_int64(statement, start, windowStart))
            try bound(sqlite3_bind_int64(statement, end, window.end.millisecondsSince1970))
            try bound(sqlite3_bind_int64(statement, lookBack, windowStart - SQLiteStore.longestHeldInterval))
            try bound(sqlite3_bind_int64(statement, self.now, now))
            func instant(_ column: Int32) -> Date {
                Date(millisecondsSince1970: sqlite3_column_int64(statement, column))
            }
            var occupants: [SlotOccupant] = []
            while true {
                let code = sqlite3_step(statement)
                if code == SQLITE_DONE { return occupants }
                if code & 0xff == SQLITE_BUSY, occupants.isEmpty { return nil }
                guard code == SQLITE_ROW else { throw Self.error(code, on: handle) }
                let slot = try TimeSlot(start: instant(0), end: instant(1))
                let occupied = try TimeSlot(start: instant(2), end: instant(3))
                let holdExpiresAt = sqlite3_column_type(statement, 5) == SQLITE_NULL ? nil : instant(5)
                occupants.append(SlotOccupant(slot: slot, occupied: occupied, holdExpiresAt: holdExpiresAt))
            }
        }
    }

    /// The `BookingError` for SQLite's result `code`, as the store maps GRDB's errors.
    private static func error(_ code: Int32, on handle: OpaquePointer) -> BookingError {
        let message = sqlite3_errmsg(handle).map { String(cString: $0) }
        return SQLiteStore.map(DatabaseError(resultCode: ResultCode(rawValue: code), message: message))
    }
}
