import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Gives a request that HTTP/1.1 cannot parse problem details, as every other error has: `431` for a request line
/// and headers over 80 KiB together (or one header over it), `400` for anything else the parser refuses (a malformed
/// request line, header or `Content-Length`).
///
/// Hummingbird answers such a request itself, before any route or middleware sees it, with a bare `400` of no body,
/// then closes the connection. This handler sits in each connection's pipeline between the HTTP codec and
/// Hummingbird: it notes the parser's error as it passes on to Hummingbird, and gives the bare answer that follows
/// its status and body. Any other response passes unchanged.
final class UnparsableRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The parser's error, until the bare answer to it is written.
    private var parserError: HTTPParserError?

    /// A handler for one connection.
    init() {}

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let error = error as? HTTPParserError { parserError = error }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard let error = parserError, case .head(var head) = unwrapOutboundIn(data), head.status == .badRequest,
            head.headerFields[.contentLength] == "0"
        else {
            context.write(data, promise: promise)
            return
        }
        parserError = nil
        let problem = Self.problem(for: error)
        guard let body = try? problem.body() else {
            context.write(data, promise: promise)
            return
        }
        head.status = problem.status
        for field in problem.responseHeaders { head.headerFields[field.name] = field.value }
        head.headerFields[.contentLength] = "\(body.count)"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: promise)
    }

    /// What a request the parser refused with `error` is told.
    static func problem(for error: HTTPParserError) -> APIError {
        switch error {
        case .headerOverflow:
            APIError(
                .init(code: 431, reasonPhrase: "Request Header Fields Too Large"), code: "REQUEST_HEAD_TOO_LARGE",
                "The request line and headers are larger than 80 KiB.")
        default:
            APIError(.badRequest, code: "BAD_REQUEST", "The request is not valid HTTP/1.1.")
        }
    }
}
