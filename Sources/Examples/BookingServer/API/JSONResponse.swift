import Foundation
import HTTPTypes
import Hummingbird

/// Encodes a value as a JSON response.
enum JSONResponse {
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws
        -> Response
    {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(
            status: status, headers: Self.headers(headers),
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    /// `headers` with the JSON content type and `Cache-Control: no-store`.
    static func headers(_ headers: HTTPFields) -> HTTPFields {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.cacheControl] = "no-store"
        return fields
    }
}
