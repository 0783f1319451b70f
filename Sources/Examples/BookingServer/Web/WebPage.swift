import Foundation
import HTTPTypes
import Hummingbird

/// The booking web page: static files from the `Public` resource folder, loaded once at start-up.
struct WebPage: Sendable {
    struct Asset: Sendable {
        let body: ByteBuffer
        let contentType: String
        let cacheControl: String
    }

    /// Only the page's own scripts and styles; the page talks only to this origin.
    static let contentSecurityPolicy = [
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
        "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    let assets: [String: Asset]

    /// Loads `index.html`, `app.js`, `styles.css` and the icon from the bundle.
    ///
    /// The SVG icon answers `/favicon.ico` too, so a client that asks for it by habit gets no 404.
    static func load() throws -> WebPage {
        let icon = "public, max-age=86400"
        let files: [(path: String, name: String, ext: String, type: String, cache: String)] = [
            ("/", "index", "html", "text/html; charset=utf-8", "no-cache"),
            ("/app.js", "app", "js", "text/javascript; charset=utf-8", "no-cache"),
            ("/styles.css", "styles", "css", "text/css; charset=utf-8", "no-cache"),
            ("/favicon.svg", "favicon", "svg", "image/svg+xml", icon),
            ("/favicon.ico", "favicon", "svg", "image/svg+xml", icon),
        ]
        var assets: [String: Asset] = [:]
        for file in files {
            guard let url = Bundle.module.url(forResource: file.name, withExtension: file.ext, subdirectory: "Public")
            else {
                throw APIError(
                    .internalServerError, code: "INTERNAL_ERROR", "The web page's \(file.name).\(file.ext) is missing.")
            }
            assets[file.path] = Asset(
                body: ByteBuffer(bytes: try Data(contentsOf: url)), contentType: file.type, cacheControl: file.cache)
        }
        return WebPage(assets: assets)
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        for (path, asset) in assets {
            router.getAndHead(RouterPath(path)) { _, _ in
                Response(
                    status: .ok,
                    headers: [
                        .contentType: asset.contentType, .cacheControl: asset.cacheControl,
                        .contentSecurityPolicy: Self.contentSecurityPolicy, .xContentTypeOptions: "nosniff",
                        .referrerPolicy: "no-referrer", .xFrameOptions: "DENY",
                    ],
                    body: .init(byteBuffer: asset.body))
            }
        }
    }
}

extension HTTPField.Name {
    // safe: the force unwraps below parse constant, valid header names.
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
}
