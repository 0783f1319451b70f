import Foundation
import HTTPTypes
import Hummingbird

/// The booking web page: the static files of the `Public` folder, built into the executable.
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

    /// The page's files, `index.html`, `app.js`, `styles.css` and the icon, built into the executable (SwiftPM's
    /// `embedInCode`): a `booking-server` copied anywhere serves its page, with no resource folder beside it.
    ///
    /// The SVG icon answers `/favicon.ico` too, so a client that asks for it by habit gets no 404.
    static func load() -> WebPage {
        let icon = "public, max-age=86400"
        let files: [(path: String, bytes: [UInt8], type: String, cache: String)] = [
            ("/", PackageResources.index_html, "text/html; charset=utf-8", "no-cache"),
            ("/app.js", PackageResources.app_js, "text/javascript; charset=utf-8", "no-cache"),
            ("/styles.css", PackageResources.styles_css, "text/css; charset=utf-8", "no-cache"),
            ("/favicon.svg", PackageResources.favicon_svg, "image/svg+xml", icon),
            ("/favicon.ico", PackageResources.favicon_svg, "image/svg+xml", icon),
        ]
        var assets: [String: Asset] = [:]
        for file in files {
            assets[file.path] = Asset(
                body: ByteBuffer(bytes: file.bytes), contentType: file.type, cacheControl: file.cache)
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
