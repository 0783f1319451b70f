#if canImport(Glibc)
    import Glibc
#endif

/// How `booking-server` asks glibc's `malloc` to keep the memory of its long answers for the next one.
///
/// A 7-day availability answer is about 170 KB. Under glibc's defaults such a buffer is mapped fresh, or the heap it
/// was freed to is trimmed back to the kernel, and each request pays a page fault per 4 KiB page it writes (about 10
/// a request, 8% of the server's CPU under load, measured in session 32). Answers up to 1 MiB are served from the
/// heap instead, and up to 4 MiB freed at a heap's top stays there. What the process keeps is bounded by those 4 MiB
/// per `malloc` arena; a larger answer (a year of slots) is still mapped and returned whole.
enum MallocTuning {
    /// Answers below this many bytes come from the heap, not a mapping of their own.
    static let mappingThreshold: Int32 = 1 << 20
    /// Free memory at a heap's top beyond this many bytes goes back to the kernel.
    static let trimThreshold: Int32 = 4 << 20

    /// Applies the thresholds; returns whether `malloc` took both (always `false` off glibc).
    @discardableResult
    static func keepAnswerBuffers() -> Bool {
        #if canImport(Glibc)
            // Swift's Glibc module leaves out <malloc.h>: `mallopt` is looked up by name, and its parameters are
            // <malloc.h>'s, part of glibc's ABI.
            let mTrimThreshold: Int32 = -1
            let mMmapThreshold: Int32 = -3
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
            let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
            return mallopt(mMmapThreshold, mappingThreshold) == 1 && mallopt(mTrimThreshold, trimThreshold) == 1
        #else
            return false
        #endif
    }
}
