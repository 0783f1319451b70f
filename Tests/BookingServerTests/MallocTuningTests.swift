#if canImport(Glibc)
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

        @Test("answers under 1 MiB come from the heap and larger ones are mapped, whatever malloc learned before")
        func thresholds() throws {
            #expect(MallocTuning.keepAnswerBuffers())
            // glibc's default maps 512 KiB; a threshold it raised on its own after earlier frees would not map 2 MiB.
            let answer = try #require(malloc(512 << 10))
            defer { free(answer) }
            let year = try #require(malloc(2 << 20))
            defer { free(year) }
            #expect(!Self.isMapped(answer))
            #expect(Self.isMapped(year))
        }
    }
#endif
