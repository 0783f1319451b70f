/// The optional body of `POST /api/appointments/:id/cancel`: `{token?}` (the header `X-Cancel-Token` wins).
struct CancelBody: Decodable {
    let token: String?

    init(from decoder: any Decoder) throws {
        var fields = try FieldReader(decoder, known: ["token"])
        token = fields.string("token", required: false)
        try fields.finish()
    }
}
