import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A TCP port on 127.0.0.1 that accepts connections (the kernel completes them) and never reads or answers: a server
/// that is frozen, as a stopped postmaster is.
public final class SilentListener: Sendable {
    /// The port it listens on.
    public let port: Int
    private let descriptor: Int32

    /// Listens on a port of the kernel's choice until ``close()``.
    public init() throws {
        struct ListenFailed: Error {}
        (descriptor, port) = try loopbackSocket()
        guard listen(descriptor, 16) == 0 else {
            closeSocket(descriptor)
            throw ListenFailed()
        }
    }

    /// Stops listening.
    public func close() {
        closeSocket(descriptor)
    }
}

/// The C library's `close`, which the class's own `close()` hides inside it.
private func closeSocket(_ descriptor: Int32) {
    close(descriptor)
}
