import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a raw exchange failed.
public struct RawExchangeFailure: Error, CustomStringConvertible {
    /// What went wrong.
    public let description: String
}

/// Sends `request` as it is (no HTTP client would send a malformed one) on a new TCP connection to 127.0.0.1:`port`,
/// and returns every byte the server sends until it closes the connection, or until 10 s pass without a byte, and
/// whether the server closed it (`false`: the wait ran out).
/// The socket's calls block, so they run on a thread of their own (see ``onOwnThread(_:)``).
public func exchangeRaw(_ request: [UInt8], port: Int) async throws(RawExchangeFailure) -> (
    answer: [UInt8], closedByServer: Bool
) {
    try await onOwnThread { () throws(RawExchangeFailure) -> ([UInt8], Bool) in
        #if os(Linux)
            // Close-on-exec: a server a parallel test spawns must not inherit the socket and hold the connection open.
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
            let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw RawExchangeFailure(description: "socket() failed") }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // A send to a connection the server closed fails instead of raising SIGPIPE, which would end the tests.
        #if os(Linux)
            let sendFlags = Int32(MSG_NOSIGNAL)
        #else
            let sendFlags: Int32 = 0
            var noSignal: Int32 = 1
            setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &noSignal, socklen_t(MemoryLayout<Int32>.size))
        #endif
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard connected else { throw RawExchangeFailure(description: "could not connect to port \(port)") }
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, sendFlags) }
            if count < 0 && errno == EINTR { continue }
            // The server may answer and close before it read everything (a head over its limit): stop sending then.
            guard count > 0 else { break }
            sent += count
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                answer += buffer[..<count]
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                // 0: the server closed; a reset closed it too; EAGAIN: 10 s passed without a byte.
                return (answer, count == 0 || errno == ECONNRESET)
            }
        }
    }
}
