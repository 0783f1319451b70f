/// `CALL booking_insert_v5(arg_… => $1, …)`, every argument named (see ``InsertProcedure``): a prepared statement of
/// the store, parsed once per connection. As an unnamed statement parsed on every call, the call itself took about
/// a fifth of what pgbench measured for a booking in the database.
enum InsertCallStatement: ClaimStatementKind {
    static let name = "booking_insert_call"
    static let rendered: (sql: String, parameters: [ClaimParameter]) = {
        let named = InsertProcedure.arguments.enumerated().map { "\(InsertProcedure.argumentName($1)) => $\($0 + 1)" }
        return ("CALL \(InsertProcedure.name)(\(named.joined(separator: ", ")))", InsertProcedure.arguments)
    }()
}
