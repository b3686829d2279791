internal import CZstd

/// Incremental zstd encoder: feed data in chunks of any size, take compressed chunks out,
/// `finish()` ends the frame.
///
/// Frames carry an XXH64 checksum; they carry their content size when `pledgedInputSize` is
/// given (then feeding a different amount fails with `.inputSizeMismatch`). After `finish()` the
/// next `feed` starts a new frame (without a pledged size). With `workers > 0` libzstd compresses
/// on its own threads and `feed` may return little until enough input is buffered.
///
/// Owns one `ZSTD_CCtx`. Not `Sendable`: use it from one task or thread at a time. After a
/// `ZstdError` it is poisoned and rethrows that error; if a sink throws, discard the frame.
public final class ZstdCompressor {
    public let level: Int
    public let workers: Int
    /// Uncompressed bytes fed so far, over all frames.
    public private(set) var bytesIn = 0
    /// Compressed bytes produced so far, over all frames.
    public private(set) var bytesOut = 0

    private var cctx: OpaquePointer?
    private let outBuffer: UnsafeMutableRawBufferPointer
    private var pledgedInputSize: Int?
    /// Input fed to the current frame, to report a pledge mismatch with real numbers.
    private var frameBytesIn = 0
    private var failure: ZstdError?

    public init(level: Int = Zstd.defaultLevel, workers: Int = 0, pledgedInputSize: Int? = nil) throws(ZstdError) {
        if let pledgedInputSize, pledgedInputSize < 0 {
            throw .invalidParameter(name: "pledgedInputSize", value: pledgedInputSize, allowed: 0...Int.max)
        }
        guard let cctx = ZSTD_createCCtx() else { throw .outOfMemory(operation: "a compression context") }
        do throws(ZstdError) {
            try Zstd.configure(cctx, level: level, workers: workers)
            if let pledgedInputSize {
                let result = ZSTD_CCtx_setPledgedSrcSize(cctx, UInt64(pledgedInputSize))
                if let error = ZstdError.check(result, ZstdErrorContext(operation: "compression setup")) { throw error }
            }
        } catch {
            ZSTD_freeCCtx(cctx)
            throw error
        }
        self.cctx = cctx
        self.level = level
        self.workers = workers
        self.pledgedInputSize = pledgedInputSize
        // ZSTD_CStreamOutSize holds one compressed block plus its header: every flush fits.
        outBuffer = .allocate(byteCount: ZSTD_CStreamOutSize(), alignment: 16)
    }

    deinit {
        close()
    }

    /// Frees the encoder (and stops its worker threads). Idempotent; later calls throw `.closed`.
    public func close() {
        guard let cctx else { return }
        ZSTD_freeCCtx(cctx)
        self.cctx = nil
        outBuffer.deallocate()
    }

    // MARK: Feeding

    /// Compresses `input`; returns whatever compressed bytes are ready (possibly none).
    public func feed(_ input: UnsafeRawBufferPointer) throws(ZstdError) -> [UInt8] {
        var output: [UInt8] = []
        try encode(input, ZSTD_e_continue) { chunk throws(ZstdError) in output.append(contentsOf: chunk) }
        return output
    }

    public func feed(_ input: [UInt8]) throws(ZstdError) -> [UInt8] {
        var output: [UInt8] = []
        try input.withZstdBytes { (bytes) throws(ZstdError) in
            try encode(bytes, ZSTD_e_continue) { chunk throws(ZstdError) in output.append(contentsOf: chunk) }
        }
        return output
    }

    /// Compresses `input`, handing compressed pieces (≤ ~128 KiB, valid during the call) to `sink`.
    public func feed(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try run(input, ZSTD_e_continue, sink)
    }

    /// Ends the frame: returns the remaining compressed bytes, epilogue and checksum included.
    public func finish() throws(ZstdError) -> [UInt8] {
        var output: [UInt8] = []
        try encode(UnsafeRawBufferPointer(start: nil, count: 0), ZSTD_e_end) { chunk throws(ZstdError) in
            output.append(contentsOf: chunk)
        }
        return output
    }

    public func finish(into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try run(UnsafeRawBufferPointer(start: nil, count: 0), ZSTD_e_end, sink)
    }

    /// Same as the sink variants, for callers whose sink fails only with `ZstdError`.
    func encode(
        _ input: UnsafeRawBufferPointer, _ directive: ZSTD_EndDirective,
        into sink: (UnsafeRawBufferPointer) throws(ZstdError) -> Void
    ) throws(ZstdError) {
        var position = 0
        var more = true
        while more {
            let (produced, pending) = try step(input, &position, directive)
            if produced > 0 { try sink(UnsafeRawBufferPointer(rebasing: outBuffer[0..<produced])) }
            more = directive == ZSTD_e_end ? pending : position < input.count
        }
        if directive == ZSTD_e_end { frameEnded() }
    }

    private func run(
        _ input: UnsafeRawBufferPointer, _ directive: ZSTD_EndDirective,
        _ sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        var position = 0
        var more = true
        while more {
            let (produced, pending) = try step(input, &position, directive)
            if produced > 0 { try sink(UnsafeRawBufferPointer(rebasing: outBuffer[0..<produced])) }
            more = directive == ZSTD_e_end ? pending : position < input.count
        }
        if directive == ZSTD_e_end { frameEnded() }
    }

    // MARK: One libzstd call

    /// One ZSTD_compressStream2 call. Returns the bytes left in `outBuffer` and whether libzstd
    /// still has data to flush (only meaningful for ZSTD_e_end, where it must reach zero).
    private func step(
        _ input: UnsafeRawBufferPointer, _ position: inout Int,
        _ directive: ZSTD_EndDirective
    ) throws(ZstdError) -> (Int, Bool) {
        guard let cctx else { throw .closed("ZstdCompressor") }
        if let failure { throw failure }
        var inBuf = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: position)
        var outBuf = ZSTD_outBuffer(dst: outBuffer.baseAddress, size: outBuffer.count, pos: 0)
        let result = ZSTD_compressStream2(cctx, &outBuf, &inBuf, directive)
        let consumed = inBuf.pos - position
        if ZSTD_isError(result) != 0 {
            // On a feed libzstd may refuse before consuming anything: count what was offered.
            let context = ZstdErrorContext(
                operation: "compression", pledgedSize: pledgedInputSize,
                receivedSize: frameBytesIn + input.count - position)
            let error = ZstdError.map(result, context)
            failure = error
            ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only)
            throw error
        }
        position = inBuf.pos
        bytesIn += consumed
        frameBytesIn += consumed
        bytesOut += outBuf.pos
        return (outBuf.pos, result != 0)
    }

    private func frameEnded() {
        // libzstd forgets a pledged size at the end of the frame it was pledged for.
        pledgedInputSize = nil
        frameBytesIn = 0
    }
}

@available(*, unavailable, message: "ZstdCompressor owns a ZSTD_CCtx that libzstd does not lock; use it from one task")
extension ZstdCompressor: Sendable {}
