import Foundation
import Synchronization

/// Standard error (file descriptor 2), written a whole line at a time: one `write` unless the kernel takes less,
/// never interleaved with another line written here, and dropped when nobody reads it any more (Foundation's
/// `FileHandle.write(_:)` traps on a broken pipe, which a log collector that died would leave).
enum StandardError {
    /// Writes `line` whole.
    @Sendable static func write(_ line: String) {
        var line = line
        line.withUTF8 { write($0) }
    }

    /// Writes `bytes` whole.
    static func write(_ bytes: Data) {
        bytes.withUnsafeBytes { write($0.bindMemory(to: UInt8.self)) }
    }

    private static func write(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let base = bytes.baseAddress else { return }
        lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let written = Foundation.write(2, base + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return  // nowhere to log that logging failed
                }
            }
        }
    }

    /// Keeps the lines of concurrent writers apart.
    private static let lock = Mutex(())
}
