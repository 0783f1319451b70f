import BookingDomain
import HTTPTypes
import Hummingbird
import RawStructuredFieldValues

/// The `Idempotency-Key` request header, as the IETF draft (draft-ietf-httpapi-idempotency-key-header) writes it.
///
/// The draft defines the key as a structured-field string (`Idempotency-Key: "8e03978e-40d5"`); a bare
/// value (`Idempotency-Key: 8e03978e-40d5`) is accepted too, as many clients send it. The key is the
/// string inside the quotes, so `"abc"` and `abc` name the same key. Keys never expire: a key names one
/// booking for good.
enum IdempotencyKeyHeader {
    /// The key the request carries, or `nil`; 400 for a quoted value that is not a valid structured string.
    static func key(of request: Request) throws -> String? {
        guard let value = request.headers[.idempotencyKey] else { return nil }
        guard value.first == "\"" else { return value }
        var parser = StructuredFieldValueParser(Array(value.utf8))
        guard let item = try? parser.parseItemFieldValue(), case .string(let key) = item.rfc9651BareItem else {
            throw APIError(
                BookingError.invalidInput(
                    field: "idempotencyKey", "must be a quoted structured-field string like \"abc\" or a bare token"))
        }
        return key
    }
}
