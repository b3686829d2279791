#if canImport(Glibc)
    import Glibc
#endif

/// Hands freed heap pages back to the kernel after the steps that free the most (an install
/// drops the download's chunk buffers and the decompressor's windows; a commit drops the
/// validation session's arena). glibc keeps freed blocks below its mmap threshold in its
/// arenas, one per thread that allocated, so an agent that has finished an update would
/// otherwise keep the peak of its download as resident memory — times the number of agents in
/// a simulated fleet. `malloc_trim` is looked up at run time because Swift's Glibc module does
/// not import malloc.h; on a C library without it this does nothing.
enum HeapTrim {
    private typealias Trim = @convention(c) (Int) -> Int32

    private static let trim: Trim? = {
        #if canImport(Glibc)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
            return unsafeBitCast(symbol, to: Trim.self)
        #else
            return nil
        #endif
    }()

    /// Returns unused heap memory to the kernel (best effort).
    static func releaseFreedMemory() { _ = trim?(0) }
}
