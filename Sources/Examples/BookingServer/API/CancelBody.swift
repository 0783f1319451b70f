/// The optional body of `POST /api/appointments/:id/cancel`: `{token?}` (a non-empty `X-Cancel-Token` header wins).
struct CancelBody: RequestBody {
    let token: String?

    static let fieldNames: Set<String> = ["token"]

    init(_ fields: inout FieldReader) throws {
        token = fields.string("token", required: false)
        try fields.finish()
    }
}
