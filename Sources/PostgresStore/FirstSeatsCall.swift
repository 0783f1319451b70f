import PostgresNIO

/// `CALL booking_first_seats_v2(arg_… => $1, …)` with the values of a call's entries, one array per argument (see
/// ``FirstSeatsProcedure``): a prepared statement of the store, parsed once per connection.
struct FirstSeatsCall: PostgresPreparedStatement {
    typealias Row = PostgresRow

    static let name = "booking_first_seats_call"
    static let sql: String = {
        let named = FirstSeatsProcedure.arguments.enumerated().map { "\($1.name) => $\($0 + 1)" }
        return "CALL \(FirstSeatsProcedure.name)(\(named.joined(separator: ", ")))"
    }()
    static let bindingDataTypes: [PostgresDataType] = [
        .textArray, .boolArray, .textArray, .textArray, .timestamptzArray, .timestamptzArray, .timestamptzArray,
        .timestamptzArray, .textArray, .textArray, .textArray, .boolArray, .textArray, .textArray, .timestamptzArray,
        .textArray, .boolArray, .int4Array, .int8Array, .timestamptzArray, .bool,
    ]

    /// The values of each entry, in the order of the call.
    let entries: [ClaimValues]
    /// Whether the procedure tries its insert with the seat index as the arbiter first (see ``FirstSeatsProcedure``).
    let seatArbiter: Bool

    /// A call with no entries: it takes no lock and writes nothing (how a suspect preparation is checked).
    static let empty = FirstSeatsCall(entries: [], seatArbiter: true)

    func makeBindings() -> PostgresBindings {
        assert(
            entries.allSatisfy(PostgresStore.triesFirstSeatTogether),
            "only a booking without a key, a hold or limits tries its first seat together")
        var bindings = PostgresBindings(capacity: Self.bindingDataTypes.count)
        // The resources' locks, each once, in order, all shared.
        let lockNames = Set(entries.flatMap(\.lockNames)).sorted()
        bindings.append(lockNames)
        bindings.append([Bool](repeating: true, count: lockNames.count))
        bindings.append(entries.map(\.resource))
        bindings.append(entries.map { $0.slotLock ?? "" })
        bindings.append(entries.map(\.slotStart))
        bindings.append(entries.map(\.slotEnd))
        bindings.append(entries.map(\.occupiedStart))
        bindings.append(entries.map(\.occupiedEnd))
        bindings.append(entries.map(\.customerName))
        bindings.append(entries.map { $0.customerEmail ?? "" })
        bindings.append(entries.map { $0.note ?? "" })
        bindings.append(entries.map { $0.note != nil })
        bindings.append(entries.map(\.cancelTokenHash))
        bindings.append(entries.map(\.requestFingerprint))
        bindings.append(entries.map(\.now))
        bindings.append(entries.map { $0.sealedCancelToken ?? "" })
        bindings.append(entries.map { $0.sealedCancelToken != nil })
        // The reminders of all entries, each with its entry's position (from 1).
        var reminderEntries: [Int32] = []
        var leads: [Int64] = []
        var dues: [PostgresInstant] = []
        for (index, entry) in entries.enumerated() {
            reminderEntries.append(contentsOf: repeatElement(Int32(index + 1), count: entry.reminderLeads.count))
            leads.append(contentsOf: entry.reminderLeads)
            dues.append(contentsOf: entry.reminderDues)
        }
        bindings.append(reminderEntries)
        bindings.append(leads)
        bindings.append(dues)
        bindings.append(seatArbiter)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
