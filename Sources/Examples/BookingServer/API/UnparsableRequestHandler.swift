import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Gives a request that HTTP/1.1 cannot parse problem details, as every other error has: `431` for a request line
/// and headers over 80 KiB together or more than 1,000 header fields, `400` for anything else the parser refuses (a
/// malformed request line, header or `Content-Length`).
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
    /// The `Server` header of the host's other answers.
    private let serverName: String

    /// A handler for one connection of the server named `serverName`.
    init(serverName: String) {
        self.serverName = serverName
    }

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
        head.headerFields[.date] = Self.httpDate(Date())
        head.headerFields[.server] = serverName
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: body))), promise: promise)
    }

    /// `date` as an HTTP date (RFC 9110, section 5.6.7: `Sun, 06 Nov 1994 08:49:37 GMT`), as `Date` carries it.
    static func httpDate(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func twoDigits(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(twoDigits(parts.tm_mday)) \(months[Int(parts.tm_mon)]) "
            + "\(parts.tm_year + 1900) \(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min)):\(twoDigits(parts.tm_sec)) GMT"
    }

    /// What a request the parser refused with `error` is told.
    static func problem(for error: HTTPParserError) -> APIError {
        switch error {
        case .headerOverflow:
            APIError(
                .init(code: 431, reasonPhrase: "Request Header Fields Too Large"), code: "REQUEST_HEAD_TOO_LARGE",
                "The request line and headers are larger than 80 KiB, or hold more than 1,000 header fields.")
        default:
            APIError(.badRequest, code: "BAD_REQUEST", "The request is not valid HTTP/1.1.")
        }
    }
}
