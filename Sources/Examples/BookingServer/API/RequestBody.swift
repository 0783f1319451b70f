/// A request body: the members of one JSON object, read through ``FieldReader``.
protocol RequestBody {
    /// The members the body may have; any other is reported as unknown.
    static var fieldNames: Set<String> { get }

    /// Reads the members from `fields`, then throws every problem at once (``FieldReader/finish()``).
    init(_ fields: inout FieldReader) throws
}
