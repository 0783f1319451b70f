import Foundation
import Hummingbird
import Logging

/// Logs one line per request with its method, path, status and duration.
///
/// Only the path is logged, never the query string, headers or body: those may carry credentials
/// (a cancel token pasted into a URL, the admin bearer token) or personal data. A path may carry a
/// secret too (the calendar feed's, a hold's token): the segments of the route's secret parameters are
/// logged as the route writes them (`/api/resources/dr-lee/calendar/{secret}.ics`, `/api/holds/{token}`),
/// whatever was sent there, and ``secrets`` (the admin token, the feed's secret) are redacted from any path, one no
/// route matched included; in a path no route matched, whatever follows a `calendar` or `holds` segment is logged as
/// `{secret}` (a mistyped feed URL, a hold token sent with the wrong method); an appointment's or notification's `{id}`
/// that is not a number is logged as `{id}` (a token pasted where the id belongs, however mangled); and any run of 32 or more base64url characters
/// in a segment, not all lower-case letters and hyphens (a cancel or hold token of 43 pasted into a mistyped URL,
/// whole, a few characters short or inside a longer segment, but never a configured resource's id) is logged as `{secret}` too. A path redacted after percent-decoding is logged encoded again, so
/// no control character reaches a log line.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let level: Logger.Level
    /// Secrets that never appear in a logged path, percent-encoded or not.
    let secrets: [String]
    /// How the route parameters whose values are secrets appear in a route: `{secret}`, `{token}`.
    private let secretPlaceholders: [String]
    /// Segments logged as they are, however token-shaped: the configured resources' ids.
    private let knownSegments: Set<Substring>

    /// Logs at `level`; the values of `secretParameters` and every one of `secrets` are left out of paths, and
    /// `knownSegments` (names the host serves, such as resource ids) are never taken for a token.
    init(level: Logger.Level, secretParameters: Set<String>, secrets: [String], knownSegments: Set<String> = []) {
        self.level = level
        self.secrets = secrets
        secretPlaceholders = secretParameters.map { "{\($0)}" }
        self.knownSegments = Set(knownSegments.map { $0[...] })
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            log(request, context: context, status: response.status.code, since: started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            log(request, context: context, status: status, since: started)
            throw error
        }
    }

    private func log(_ request: Request, context: Context, status: Int, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        context.logger.log(
            level: level, "request",
            metadata: [
                "http.method": "\(request.method.rawValue)", "http.path": "\(loggedPath(request, context: context))",
                "http.status": "\(status)", "duration_ms": "\((milliseconds * 1000).rounded() / 1000)",
            ])
    }

    /// The collections whose `{id}` is a number (a resource's id is a name).
    static var numberedCollections: Set<Substring> { ["appointments", "notifications"] }

    /// The segments whatever follows is a secret in a path no route matched.
    static var secretBearingSegments: Set<String> { ["calendar", "holds"] }

    /// The request's path with every secret in it replaced.
    func loggedPath(_ request: Request, context: Context) -> String {
        var path = request.uri.path
        if let route = context.endpointPath,
            Self.contains(route, "{id}") || secretPlaceholders.contains(where: { Self.contains(route, $0) })
        {
            let routeSegments = route.split(separator: "/")
            let pathSegments = path.split(separator: "/")
            guard routeSegments.count == pathSegments.count else { return route }
            path =
                "/"
                + zip(routeSegments.indices, zip(routeSegments, pathSegments)).map { index, segments in
                    let (routeSegment, pathSegment) = segments
                    if secretPlaceholders.contains(where: { Self.contains(routeSegment, $0) }) { return routeSegment }
                    // An appointment's or a notification's id is a number; anything else there may be a token pasted
                    // in its place.
                    if routeSegment == "{id}", index > 0, Self.numberedCollections.contains(routeSegments[index - 1]),
                        !pathSegment.utf8.allSatisfy({ (0x30...0x39).contains($0) })
                    {
                        return routeSegment
                    }
                    return pathSegment
                }.joined(separator: "/")
        } else if Self.secretBearingSegments.contains(where: { Self.contains(path, "/\($0)/") }) {
            // A mistyped feed URL or a hold token sent with the wrong method matches no route with a secret, yet
            // what follows `calendar` or `holds` may be most of the secret.
            let segments = path.split(separator: "/", omittingEmptySubsequences: false)
            if let index = segments.firstIndex(where: { Self.secretBearingSegments.contains(String($0)) }),
                index + 1 < segments.count
            {
                path = (segments[...index] + ["{secret}"]).joined(separator: "/")
            }
        }
        for secret in secrets where !secret.isEmpty {
            let decoded = Self.contains(path, "%") ? path.removingPercentEncoding ?? path : path
            if Self.contains(decoded, secret) {
                // Replaced as UTF-8, like the search: a secret is redacted wherever its bytes are; then encoded again.
                let redacted = String(
                    decoding: Array(decoded.utf8).replacing(Array(secret.utf8), with: Array("{secret}".utf8)),
                    as: UTF8.self)
                path = redacted.addingPercentEncoding(withAllowedCharacters: Self.loggedPathCharacters) ?? "{secret}"
            }
        }
        if path.utf8.count > Self.shortestTokenLike {
            path = path.split(separator: "/", omittingEmptySubsequences: false).map {
                knownSegments.contains($0) ? String($0) : Self.redactingTokens($0)
            }.joined(separator: "/")
        }
        return path
    }

    /// How long the tokens the host makes are: 32 bytes in base64url without padding.
    static var tokenLength: Int { 43 }

    /// The shortest run logged as a token: a token pasted up to eleven characters short still is one.
    static var shortestTokenLike: Int { 32 }

    /// What a logged path keeps unencoded: a URL path's characters and the braces of `{secret}`.
    private static var loggedPathCharacters: CharacterSet {
        CharacterSet.urlPathAllowed.union(CharacterSet(charactersIn: "{}"))
    }

    /// `segment` with each run of base64url characters shaped like a token (see ``looksLikeToken(_:)``) written
    /// `{secret}`: a token pasted whole into a segment, or into a longer one (`cancel&token=...`, `token=...`).
    static func redactingTokens(_ segment: Substring) -> String {
        let text = segment.contains("%") ? segment.removingPercentEncoding ?? String(segment) : String(segment)
        guard text.utf8.count >= shortestTokenLike else { return String(segment) }
        var redacted = ""
        var run = Substring()
        var changed = false
        func endRun() {
            if looksLikeToken(run) {
                redacted += "{secret}"
                changed = true
            } else {
                redacted += run
            }
        }
        var runStart = text.startIndex
        for index in text.indices {
            if isBase64URL(text[index]) {
                if run.isEmpty { runStart = index }
                run = text[runStart...index]
            } else {
                endRun()
                run = Substring()
                redacted.append(text[index])
            }
        }
        endRun()
        guard changed else { return String(segment) }
        // What was decoded to be searched is logged encoded again.
        return text == segment
            ? redacted
            : redacted.addingPercentEncoding(
                withAllowedCharacters: CharacterSet(
                    charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~{}")) ?? "{secret}"
    }

    /// Whether `run` has a token's shape: at least ``shortestTokenLike`` characters of base64url, not all of them lower-case
    /// letters and hyphens (words, as in a resource's name, are no token; a random token is never only those).
    static func looksLikeToken(_ run: Substring) -> Bool {
        guard run.utf8.count >= shortestTokenLike else { return false }
        var unlikeAName = false
        for character in run {
            guard isBase64URL(character) else { return false }
            if !(("a"..."z").contains(character) || character == "-") { unlikeAName = true }
        }
        return unlikeAName
    }

    /// Whether `character` is one of base64url's: an ASCII letter or digit, `-` or `_`.
    private static func isBase64URL(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "-" || character == "_")
    }

    /// Whether `part` occurs in `text`, compared as UTF-8 (Foundation's `contains` goes through `NSString`, and
    /// the standard library's generic `firstRange(of:)` cost a tenth of a booking's time here).
    static func contains(_ text: some StringProtocol, _ part: String) -> Bool {
        var part = part
        return part.withUTF8 { needle in
            guard !needle.isEmpty else { return true }
            func search(_ haystack: UnsafeBufferPointer<UInt8>) -> Bool {
                guard haystack.count >= needle.count else { return false }
                for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
                    var matched = 1
                    while matched < needle.count && haystack[start + matched] == needle[matched] { matched += 1 }
                    if matched == needle.count { return true }
                }
                return false
            }
            return text.utf8.withContiguousStorageIfAvailable(search)
                ?? Array(text.utf8).withUnsafeBufferPointer(search)
        }
    }
}
