import PostgresNIO

/// A value bound by the statements that take a slot (bookings, moves, holds), by name: a statement binds
/// each one it uses once, however often its SQL refers to it.
enum ClaimParameter: Hashable, Sendable {
    case resource, slotStart, slotEnd, occupiedStart, occupiedEnd, now, capacity
    case periodStarts, periodEnds, periodLimits
    case customerEmail, movingID, holdTokenHash, idempotencyKey
    case lockNames, lockShared, slotLock, trySlotLock, firstSeat
    case customerName, note, cancelTokenHash, requestFingerprint, sealedCancelToken, reminderLeads, reminderDues
    case previousSlotStart, previousSlotEnd, rescheduleKey
    case newTokenHash, holdExpiresAt
}

/// The values of one claim statement's parameters. Those a statement does not use keep their defaults.
struct ClaimValues: Sendable {
    var resource = ""
    var slotStart = PostgresInstant(millisecondsSince1970: 0)
    var slotEnd = PostgresInstant(millisecondsSince1970: 0)
    var occupiedStart = PostgresInstant(millisecondsSince1970: 0)
    var occupiedEnd = PostgresInstant(millisecondsSince1970: 0)
    var now = PostgresInstant(millisecondsSince1970: 0)
    var capacity: Int64 = 1
    var periodStarts: [PostgresInstant] = []
    var periodEnds: [PostgresInstant] = []
    var periodLimits: [Int64] = []
    var customerEmail: String?
    var movingID: Int64?
    var holdTokenHash: String?
    var idempotencyKey: String?
    var lockNames: [String] = []
    var lockShared: [Bool] = []
    var slotLock: String?
    var trySlotLock = false
    var firstSeat = false
    var customerName = ""
    var note: String?
    var cancelTokenHash = ""
    var requestFingerprint = ""
    var sealedCancelToken: String?
    var reminderLeads: [Int64] = []
    var reminderDues: [PostgresInstant] = []
    var previousSlotStart = PostgresInstant(millisecondsSince1970: 0)
    var previousSlotEnd = PostgresInstant(millisecondsSince1970: 0)
    var rescheduleKey: String?
    var newTokenHash = ""
    var holdExpiresAt = PostgresInstant(millisecondsSince1970: 0)

    /// The type `parameter` is declared with when its statement is prepared.
    static func type(of parameter: ClaimParameter) -> PostgresDataType {
        switch parameter {
        case .resource, .customerEmail, .holdTokenHash, .idempotencyKey, .customerName, .note, .cancelTokenHash,
            .requestFingerprint, .sealedCancelToken, .rescheduleKey, .newTokenHash, .slotLock:
            String.psqlType
        case .trySlotLock, .firstSeat: Bool.psqlType
        case .slotStart, .slotEnd, .occupiedStart, .occupiedEnd, .now, .previousSlotStart, .previousSlotEnd,
            .holdExpiresAt:
            PostgresInstant.psqlType
        case .capacity, .movingID: Int64.psqlType
        case .periodStarts, .periodEnds, .reminderDues: [PostgresInstant].psqlType
        case .periodLimits, .reminderLeads: [Int64].psqlType
        case .lockNames: [String].psqlType
        case .lockShared: [Bool].psqlType
        }
    }

    /// Appends the value of `parameter`.
    func bind(_ parameter: ClaimParameter, into bindings: inout PostgresBindings) {
        switch parameter {
        case .resource: bindings.append(resource)
        case .slotStart: bindings.append(slotStart)
        case .slotEnd: bindings.append(slotEnd)
        case .occupiedStart: bindings.append(occupiedStart)
        case .occupiedEnd: bindings.append(occupiedEnd)
        case .now: bindings.append(now)
        case .capacity: bindings.append(capacity)
        case .periodStarts: bindings.append(periodStarts)
        case .periodEnds: bindings.append(periodEnds)
        case .periodLimits: bindings.append(periodLimits)
        case .customerEmail: bindings.append(typed: customerEmail)
        case .movingID: bindings.append(typed: movingID)
        case .holdTokenHash: bindings.append(typed: holdTokenHash)
        case .idempotencyKey: bindings.append(typed: idempotencyKey)
        case .lockNames: bindings.append(lockNames)
        case .lockShared: bindings.append(lockShared)
        case .slotLock: bindings.append(typed: slotLock)
        case .trySlotLock: bindings.append(trySlotLock)
        case .firstSeat: bindings.append(firstSeat)
        case .customerName: bindings.append(customerName)
        case .note: bindings.append(typed: note)
        case .cancelTokenHash: bindings.append(cancelTokenHash)
        case .requestFingerprint: bindings.append(requestFingerprint)
        case .sealedCancelToken: bindings.append(typed: sealedCancelToken)
        case .reminderLeads: bindings.append(reminderLeads)
        case .reminderDues: bindings.append(reminderDues)
        case .previousSlotStart: bindings.append(previousSlotStart)
        case .previousSlotEnd: bindings.append(previousSlotEnd)
        case .rescheduleKey: bindings.append(typed: rescheduleKey)
        case .newTokenHash: bindings.append(newTokenHash)
        case .holdExpiresAt: bindings.append(holdExpiresAt)
        }
    }
}

extension PostgresBindings {
    /// Appends `value`, or a `NULL` of its type.
    fileprivate mutating func append<Value: PostgresNonThrowingEncodable>(typed value: Value?) {
        if let value { append(value) } else { append(PostgresData(type: Value.psqlType, value: nil)) }
    }
}

/// SQL text whose values are named parameters: `\(.resource)` becomes `$n`, the same `n` wherever the
/// statement uses it. Pieces compose (`\(otherPiece)`), and the text of a statement never depends on the
/// values, so it can be prepared once per connection and planned once (a generic plan).
struct ClaimSQL: ExpressibleByStringInterpolation, Sendable {
    fileprivate enum Piece: Sendable {
        case text(String)
        case parameter(ClaimParameter)
    }

    fileprivate var pieces: [Piece]

    init(stringLiteral value: String) {
        pieces = [.text(value)]
    }

    init(stringInterpolation: StringInterpolation) {
        pieces = stringInterpolation.pieces
    }

    /// `\(.name)` binds a parameter, `\(unescaped:)` splices trusted SQL text, `\(piece)` embeds another piece.
    struct StringInterpolation: StringInterpolationProtocol {
        fileprivate var pieces: [Piece] = []

        init(literalCapacity: Int, interpolationCount: Int) {
            pieces.reserveCapacity(interpolationCount * 2 + 1)
        }

        mutating func appendLiteral(_ literal: String) {
            pieces.append(.text(literal))
        }

        mutating func appendInterpolation(_ parameter: ClaimParameter) {
            pieces.append(.parameter(parameter))
        }

        mutating func appendInterpolation(unescaped text: String) {
            pieces.append(.text(text))
        }

        mutating func appendInterpolation(_ piece: ClaimSQL) {
            pieces.append(contentsOf: piece.pieces)
        }
    }

    /// The parameters in the order they first appear.
    var parameters: [ClaimParameter] {
        var seen: Set<ClaimParameter> = []
        return pieces.compactMap { piece in
            guard case .parameter(let parameter) = piece, seen.insert(parameter).inserted else { return nil }
            return parameter
        }
    }

    /// The text with each parameter written as `name(parameter)`: how a statement is embedded in a function,
    /// whose arguments and variables stand for the values.
    func text(naming name: (ClaimParameter) -> String) -> String {
        pieces.map { piece in
            switch piece {
            case .text(let text): text
            case .parameter(let parameter): name(parameter)
            }
        }.joined()
    }

    /// The statement's text with `$1`, `$2`, ... numbered in the order the parameters first appear, and those
    /// parameters in that order.
    var rendered: (sql: String, parameters: [ClaimParameter]) {
        var sql = ""
        var numbers: [ClaimParameter: Int] = [:]
        var parameters: [ClaimParameter] = []
        for piece in pieces {
            switch piece {
            case .text(let text): sql += text
            case .parameter(let parameter):
                if let number = numbers[parameter] {
                    sql += "$\(number)"
                } else {
                    parameters.append(parameter)
                    numbers[parameter] = parameters.count
                    sql += "$\(parameters.count)"
                }
            }
        }
        return (sql, parameters)
    }
}

/// One of the statements that take a slot: a named prepared statement, parsed once per connection and planned
/// once (a generic plan, see `plan_cache_mode` in the connection settings) instead of on every run.
protocol ClaimStatementKind: Sendable {
    /// The prepared statement's name, unique among the statements of the store.
    static var name: String { get }
    /// The text and the parameters it binds, in order.
    static var rendered: (sql: String, parameters: [ClaimParameter]) { get }
}

/// A statement of `Kind` with the values to bind, for `PostgresConnection.execute(_:logger:)`.
///
/// PostgresNIO remembers a failed preparation for the life of the connection, so the store runs these through
/// `PostgresStore.runClaim(_:_:on:)`, which keeps track of them.
struct PreparedClaim<Kind: ClaimStatementKind>: PostgresPreparedStatement {
    typealias Row = PostgresRow

    static var name: String { Kind.name }
    static var sql: String { Kind.rendered.sql }
    static var bindingDataTypes: [PostgresDataType] { Kind.rendered.parameters.map(ClaimValues.type(of:)) }

    let values: ClaimValues

    func makeBindings() -> PostgresBindings {
        let parameters = Kind.rendered.parameters
        var bindings = PostgresBindings(capacity: parameters.count)
        for parameter in parameters { values.bind(parameter, into: &bindings) }
        return bindings
    }

    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}
