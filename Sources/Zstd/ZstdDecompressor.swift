internal import CZstd

/// Incremental zstd decoder: feed compressed chunks as they arrive, take decompressed chunks out.
///
/// Accepts any number of concatenated frames (and skippable frames), like `zstd -d`. Output is
/// capped at `maxOutputBytes` over the decoder's whole life (until `reset()`): decoding stops with
/// `.outputLimitExceeded` as soon as libzstd produces the first byte past the cap, and the piece
/// holding that byte is withheld, so `bytesOut` (what was handed out) never exceeds the cap. Memory stays bounded by the window (≤ 2^`maxWindowLog`) plus one
/// ~128 KiB output buffer, whatever the input claims.
///
/// Owns one `ZSTD_DCtx`. Not `Sendable`: use it from one task or thread at a time (an agent keeps
/// it inside the actor that owns the download). After a `ZstdError` the decoder is poisoned and
/// rethrows that error until `reset()`; if a sink throws, call `reset()` before reusing it.
public final class ZstdDecompressor {
    /// The most bytes this decoder will ever produce (until `reset()`).
    public let maxOutputBytes: Int
    /// log2 of the largest window a frame may ask for.
    public let maxWindowLog: Int
    /// Compressed bytes consumed so far.
    public private(set) var bytesIn = 0
    /// Decompressed bytes produced so far.
    public private(set) var bytesOut = 0

    private var dctx: OpaquePointer?
    private let outBuffer: UnsafeMutableRawBufferPointer
    /// Compressed offset where the current frame started, and its first bytes (for messages).
    private var frameOffset = 0
    private var frameHead: [UInt8] = []
    /// True between the first byte of a frame and libzstd reporting it fully decoded and flushed.
    private var inFrame = false
    private var lastOutputFull = false
    private var failure: ZstdError?

    /// - Parameters:
    ///   - maxOutputBytes: hard cap on the total decompressed size.
    ///   - maxWindowLog: reject frames needing a window above 2^maxWindowLog bytes (default 27).
    public init(maxOutputBytes: Int, maxWindowLog: Int = Zstd.defaultMaxWindowLog) throws(ZstdError) {
        try Zstd.validateLimit(maxOutputBytes)
        try Zstd.validateWindowLog(maxWindowLog)
        guard let dctx = ZSTD_createDCtx() else { throw .outOfMemory(operation: "a decompression context") }
        let result = ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, Int32(maxWindowLog))
        if let error = ZstdError.check(result, ZstdErrorContext(operation: "decompression setup")) {
            ZSTD_freeDCtx(dctx)
            throw error
        }
        self.dctx = dctx
        self.maxOutputBytes = maxOutputBytes
        self.maxWindowLog = maxWindowLog
        // ZSTD_DStreamOutSize is one full block: libzstd can always flush into it in one go.
        outBuffer = .allocate(byteCount: ZSTD_DStreamOutSize(), alignment: 16)
    }

    deinit {
        close()
    }

    /// Frees the decoder. Idempotent; any later call throws `.closed`.
    public func close() {
        guard let dctx else { return }
        ZSTD_freeDCtx(dctx)
        self.dctx = nil
        outBuffer.deallocate()
    }

    /// Forgets the current stream (counters, cap usage, error) so a new one can be decoded.
    public func reset() throws(ZstdError) {
        guard let dctx else { throw .closed("ZstdDecompressor") }
        ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only)
        bytesIn = 0
        bytesOut = 0
        frameOffset = 0
        frameHead = []
        inFrame = false
        lastOutputFull = false
        failure = nil
    }

    // MARK: Feeding

    /// Decodes `input` and returns everything it decompresses to.
    public func feed(_ input: UnsafeRawBufferPointer) throws(ZstdError) -> [UInt8] {
        var output: [UInt8] = []
        try decode(input) { chunk throws(ZstdError) in output.append(contentsOf: chunk) }
        return output
    }

    /// Decodes `input` and returns everything it decompresses to.
    public func feed(_ input: [UInt8]) throws(ZstdError) -> [UInt8] {
        var output: [UInt8] = []
        try input.withZstdBytes { (bytes) throws(ZstdError) in
            try decode(bytes) { chunk throws(ZstdError) in output.append(contentsOf: chunk) }
        }
        return output
    }

    /// Decodes `input`, handing decompressed data to `sink` in pieces of at most ~128 KiB; the
    /// piece is only valid during the call. Memory stays bounded however far `input` expands.
    /// Throws `ZstdError`, or whatever `sink` throws.
    public func feed(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var position = 0
        while try needsStep(input, position) {
            let produced = try step(input, &position)
            if produced > 0 { try sink(UnsafeRawBufferPointer(rebasing: outBuffer[0..<produced])) }
        }
    }

    /// Same as `feed(_:into:)` with a sink that can only fail with a `ZstdError`.
    func decode(_ input: UnsafeRawBufferPointer, into sink: (UnsafeRawBufferPointer) throws(ZstdError) -> Void) throws(ZstdError) {
        var position = 0
        while try needsStep(input, position) {
            let produced = try step(input, &position)
            if produced > 0 { try sink(UnsafeRawBufferPointer(rebasing: outBuffer[0..<produced])) }
        }
    }

    /// Checks that the input so far ends exactly at a frame boundary. Call it when the stream
    /// is complete: it is the only way to tell a cut-off stream from one still arriving.
    /// The decoder may go on with more concatenated frames afterwards.
    public func finish() throws(ZstdError) {
        guard dctx != nil else { throw .closed("ZstdDecompressor") }
        if let failure { throw failure }
        if bytesIn == 0 || inFrame {
            throw fail(.truncatedInput(compressedBytes: bytesIn))
        }
    }

    // MARK: One libzstd call

    /// Whether the loop must call libzstd again: input is left, or the last call filled the
    /// output buffer mid-frame (libzstd may hold more decoded data).
    private func needsStep(_ input: UnsafeRawBufferPointer, _ position: Int) throws(ZstdError) -> Bool {
        guard dctx != nil else { throw .closed("ZstdDecompressor") }
        if let failure { throw failure }
        return position < input.count || (lastOutputFull && inFrame)
    }

    /// One ZSTD_decompressStream call; returns how many bytes it left at the start of `outBuffer`.
    private func step(_ input: UnsafeRawBufferPointer, _ position: inout Int) throws(ZstdError) -> Int {
        guard let dctx else { throw .closed("ZstdDecompressor") }
        // Room for one byte past the cap and no more: producing that byte proves the cap is
        // exceeded, while nothing past it is ever decoded into memory or handed out.
        let remaining = maxOutputBytes - bytesOut
        let room = remaining < outBuffer.count ? remaining + 1 : outBuffer.count
        var inBuf = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: position)
        var outBuf = ZSTD_outBuffer(dst: outBuffer.baseAddress, size: room, pos: 0)
        let result = ZSTD_decompressStream(dctx, &outBuf, &inBuf)

        let consumed = inBuf.pos - position
        if frameHead.count < 4, consumed > 0, let base = input.baseAddress {
            let take = min(consumed, 4 - frameHead.count)
            frameHead.append(contentsOf: UnsafeRawBufferPointer(start: base + position, count: take))
        }
        if ZSTD_isError(result) != 0 {
            // libzstd may reject a bad magic before consuming it; show the bytes it refused too.
            var head = frameHead
            if head.count < 4, let base = input.baseAddress {
                let start = inBuf.pos
                let take = min(4 - head.count, input.count - start)
                if take > 0 { head.append(contentsOf: UnsafeRawBufferPointer(start: base + start, count: take)) }
            }
            let context = ZstdErrorContext(
                operation: "decompression", frameOffset: frameOffset, frameHead: head, maxWindowLog: maxWindowLog)
            throw fail(ZstdError.map(result, context))
        }
        bytesIn += consumed
        position = inBuf.pos
        guard outBuf.pos <= remaining else {
            throw fail(.outputLimitExceeded(limit: maxOutputBytes, declaredSize: nil))
        }
        bytesOut += outBuf.pos
        lastOutputFull = outBuf.pos == outBuf.size
        if result == 0 {
            // Frame decoded, checksum verified and fully flushed: the next byte starts a frame.
            inFrame = false
            frameOffset = bytesIn
            frameHead = []
        } else {
            inFrame = true
            if consumed == 0 && outBuf.pos == 0 && position < input.count {
                // libzstd neither read nor wrote with both available: never loop on that.
                throw fail(.library(operation: "decompression", code: 0, name: "decoder made no progress"))
            }
        }
        return outBuf.pos
    }

    /// Poisons the decoder with `error` (libzstd's context is unusable after an error anyway).
    private func fail(_ error: ZstdError) -> ZstdError {
        failure = error
        if let dctx { ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only) }
        return error
    }
}

@available(*, unavailable, message: "ZstdDecompressor owns a ZSTD_DCtx that libzstd does not lock; use it from one task")
extension ZstdDecompressor: Sendable {}
