internal import CZstd

/// Zstandard compression for Flotilla artifacts: one-shot buffers (`Zstd+Buffers.swift`),
/// incremental streams (`ZstdCompressor`, `ZstdDecompressor`) and bounded-memory file → file
/// helpers (`Zstd+Files.swift`).
///
/// Every frame this module writes carries an XXH64 content checksum, and its content size
/// whenever it is known up front, so a reader can both verify and size the output. Every
/// decompression takes a hard output cap, because a device must never let a small download
/// expand into all of its memory or disk.
public enum Zstd {
    /// The level used when none is given: the zstd CLI's default. On int8 weights levels 1–3
    /// are within 1–2% of level 19 and far faster (docs/architecture.md, measured facts).
    public static let defaultLevel = 3

    /// Levels libzstd accepts; negative levels trade ratio for speed, 0 means `defaultLevel`.
    public static var levelRange: ClosedRange<Int> {
        Int(ZSTD_minCLevel())...Int(ZSTD_maxCLevel())
    }

    /// Worker threads libzstd accepts for one compression (0 = compress on the caller's thread).
    public static var workerRange: ClosedRange<Int> {
        let bounds = ZSTD_cParam_getBounds(ZSTD_c_nbWorkers)
        guard ZSTD_isError(bounds.error) == 0 else { return 0...0 }
        return Int(bounds.lowerBound)...Int(bounds.upperBound)
    }

    /// Whether this libzstd was built with ZSTD_MULTITHREAD. The header's advice is to set
    /// nbWorkers to 1 on a scratch context and look at the result, which is what this does.
    public static let supportsMultithreading: Bool = {
        guard let cctx = ZSTD_createCCtx() else { return false }
        defer { ZSTD_freeCCtx(cctx) }
        return ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, 1)) == 0
    }()

    /// libzstd's version, e.g. "1.5.4".
    public static var libraryVersion: String {
        ZSTD_versionString().map { String(cString: $0) } ?? "unknown"
    }

    /// The largest window the decoders accept by default: 2^27 = 128 MiB, libzstd's own default
    /// (ZSTD_WINDOWLOG_LIMIT_DEFAULT). Frames from levels 1–19 without `--long` need at most 8 MiB.
    public static let defaultMaxWindowLog = 27

    // MARK: Shared validation

    static func validateLevel(_ level: Int) throws(ZstdError) {
        guard levelRange.contains(level) else {
            throw .invalidParameter(name: "level", value: level, allowed: levelRange)
        }
    }

    static func validateWorkers(_ workers: Int) throws(ZstdError) {
        guard workers >= 0 else {
            throw .invalidParameter(name: "workers", value: workers, allowed: workerRange)
        }
        guard workers == 0 || supportsMultithreading else {
            throw .multithreadingUnsupported(workers: workers)
        }
        guard workerRange.contains(workers) else {
            throw .invalidParameter(name: "workers", value: workers, allowed: workerRange)
        }
    }

    static func validateLimit(_ maxOutputBytes: Int) throws(ZstdError) {
        guard maxOutputBytes >= 0 else {
            throw .invalidParameter(name: "maxOutputBytes", value: maxOutputBytes, allowed: 0...Int.max)
        }
    }

    static func validateWindowLog(_ log: Int) throws(ZstdError) {
        let bounds = ZSTD_dParam_getBounds(ZSTD_d_windowLogMax)
        let allowed = Int(bounds.lowerBound)...Int(bounds.upperBound)
        guard allowed.contains(log) else {
            throw .invalidParameter(name: "maxWindowLog", value: log, allowed: allowed)
        }
    }

    /// Applies level, checksum, content-size and workers to a compression context. One function
    /// so one-shot and streaming compression can never write different kinds of frames.
    static func configure(_ cctx: OpaquePointer, level: Int, workers: Int) throws(ZstdError) {
        try validateLevel(level)
        try validateWorkers(workers)
        let settings: [(ZSTD_cParameter, Int32)] = [
            (ZSTD_c_compressionLevel, Int32(level)),
            (ZSTD_c_checksumFlag, 1),
            (ZSTD_c_contentSizeFlag, 1),
            (ZSTD_c_nbWorkers, Int32(workers)),
        ]
        for (parameter, value) in settings {
            let result = ZSTD_CCtx_setParameter(cctx, parameter, value)
            if let error = ZstdError.check(result, ZstdErrorContext(operation: "compression setup")) {
                if parameter == ZSTD_c_nbWorkers, workers > 0 {
                    throw .multithreadingUnsupported(workers: workers)
                }
                throw error
            }
        }
    }
}
