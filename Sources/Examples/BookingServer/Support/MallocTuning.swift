#if os(Linux) && canImport(Glibc)
    import Glibc
#endif

/// How `booking-server` asks glibc's `malloc` to keep the memory of its long answers for the next one.
///
/// A week of 5-minute slots is a 256 KiB answer buffer (about 170 KB of text). glibc's defaults map buffers of
/// 128 KiB and more afresh, and give a heap's free top beyond 128 KiB back to the kernel, adjusting both as blocks are
/// freed; under load, many answers were written into pages the kernel had to find and clear first (10.7 page faults a
/// request, 8% of the server's CPU; BENCHMARKS.md, session 32). With these thresholds, allocations under 2 MiB (answer
/// buffers up to 1 MiB: about 9,000 slots) come from the heaps, and up to 4 MiB free at a heap's top stays there
/// (glibc keeps up to 8 arenas per core); a longer answer is mapped and given back whole.
///
/// An operator who tunes `malloc` is left alone: nothing is changed when `GLIBC_TUNABLES` names a `glibc.malloc`
/// tunable or a variable of glibc's `MALLOC_` family is set (`MALLOC_ARENA_MAX`, `MALLOC_TRIM_THRESHOLD_`; see
/// ``operatorTunes(_:)``).
enum MallocTuning {
    /// Allocations of this many bytes or more get a mapping of their own.
    static let mappingThreshold: Int32 = 2 << 20
    /// Free memory at a heap's top beyond this many bytes goes back to the kernel.
    static let trimThreshold: Int32 = 4 << 20

    /// What ``apply(environment:)`` did.
    enum Outcome: String {
        /// Both thresholds are set.
        case applied
        /// The environment tunes `malloc`: nothing was changed.
        case leftToOperator = "left-to-operator"
        /// No glibc `malloc` to tune (another C library, or `mallopt` refused a threshold).
        case unavailable
    }

    /// Whether `environment` tunes glibc's `malloc` itself: `GLIBC_TUNABLES` names a `glibc.malloc` tunable, or a
    /// variable whose name starts with `MALLOC_` is set, as glibc's older settings are named.
    static func operatorTunes(_ environment: [String: String]) -> Bool {
        if environment.keys.contains(where: { $0.hasPrefix("MALLOC_") }) { return true }
        return environment["GLIBC_TUNABLES"]?.contains("glibc.malloc.") ?? false
    }

    /// Sets the thresholds unless `environment` tunes `malloc` itself.
    static func apply(environment: [String: String]) -> Outcome {
        if operatorTunes(environment) { return .leftToOperator }
        #if os(Linux) && canImport(Glibc)
            // Swift's Glibc module leaves out <malloc.h>: `mallopt` is looked up by name (a nil handle is glibc's
            // RTLD_DEFAULT), and its parameters are <malloc.h>'s, part of glibc's ABI.
            let mTrimThreshold: Int32 = -1
            let mMmapThreshold: Int32 = -3
            guard let symbol = dlsym(nil, "mallopt") else { return .unavailable }
            let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
            guard mallopt(mMmapThreshold, mappingThreshold) == 1, mallopt(mTrimThreshold, trimThreshold) == 1 else {
                return .unavailable
            }
            return .applied
        #else
            return .unavailable
        #endif
    }
}
