/// Lets at most a fixed number of test databases be open at once, in the order they were asked for.
///
/// The suites run in parallel: every conformance check, every HTTP API case and every PostgreSQL test opens a
/// database with its own pools, and all at once they asked the throwaway cluster for more connections than its
/// `max_connections`. A refused pool backs off, so a check's 200 tasks then waited past their bound for a
/// connection. Queueing here keeps the cluster under its limit and the two cores less crowded.
actor TestDatabaseGate {
    private var free: Int
    private var open: Set<String> = []
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// A gate that lets `limit` databases be open at once.
    init(limit: Int) { free = limit }

    /// Waits for a turn, then counts `database` as open.
    func enter(_ database: String) async {
        if free > 0 {
            free -= 1
        } else {
            await withCheckedContinuation { waiting.append($0) }
        }
        open.insert(database)
    }

    /// Counts `database` as closed and gives its turn to the longest waiter; a database not open here is ignored
    /// (so a second drop of one database frees nothing).
    func leave(_ database: String) {
        guard open.remove(database) != nil else { return }
        if waiting.isEmpty {
            free += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
