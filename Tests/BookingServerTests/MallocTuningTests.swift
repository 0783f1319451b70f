#if os(Linux) && canImport(Glibc)
    import Glibc
    import Testing

    @testable import BookingServer

    @Suite("malloc tuning")
    struct MallocTuningTests {
        /// Whether glibc gave `pointer`'s chunk a mapping of its own: bit 1 (`IS_MMAPPED`) of the size word before the
        /// memory `malloc` returns, in glibc's chunk layout.
        static func isMapped(_ pointer: UnsafeMutableRawPointer) -> Bool {
            (pointer - MemoryLayout<Int>.size).load(as: UInt.self) & 2 != 0
        }

        @Test("once applied, a 1 MiB answer buffer comes from a heap, not a mapping of its own")
        func answerBufferFromTheHeap() throws {
            try #require(MallocTuning.apply(environment: [:]) == .applied)
            let buffer = try #require(malloc(1 << 20))
            defer { free(buffer) }
            #expect(!Self.isMapped(buffer))
        }

        @Test(
            "an environment that tunes malloc is left alone",
            arguments: [
                (["GLIBC_TUNABLES": "glibc.malloc.trim_threshold=0"], true),
                (["GLIBC_TUNABLES": "glibc.rtld.nns=2:glibc.malloc.arena_max=2"], true),
                (["MALLOC_MMAP_THRESHOLD_": "131072"], true), (["MALLOC_TRIM_THRESHOLD_": ""], true),
                (["MALLOC_ARENA_MAX": "2"], true), (["MY_MALLOC_SIZE": "1"], false),
                (["GLIBC_TUNABLES": "glibc.rtld.nns=2"], false), (["PATH": "/usr/bin"], false), ([:], false),
            ])
        func operatorTunes(environment: [String: String], tunes: Bool) {
            #expect(MallocTuning.operatorTunes(environment) == tunes)
            if tunes { #expect(MallocTuning.apply(environment: environment) == .leftToOperator) }
        }
    }
#endif
