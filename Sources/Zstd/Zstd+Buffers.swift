internal import CZstd

extension Zstd {
    // MARK: One-shot compression

    /// Compresses `input` into one frame with a checksum and the content size.
    ///
    /// - Parameters:
    ///   - level: `Zstd.levelRange`; 3 by default, 19 for the smallest artifacts.
    ///   - workers: 0 compresses on the caller's thread; n > 0 uses n libzstd worker threads
    ///     (a blocking call either way: keep it off the cooperative thread pool).
    public static func compress(
        _ input: UnsafeRawBufferPointer, level: Int = defaultLevel, workers: Int = 0
    ) throws(ZstdError) -> [UInt8] {
        guard let cctx = ZSTD_createCCtx() else { throw .outOfMemory(operation: "a compression context") }
        defer { ZSTD_freeCCtx(cctx) }
        try configure(cctx, level: level, workers: workers)
        // compressBound is the worst case (incompressible input stored raw), so one call always
        // completes; the array is trimmed to what was written.
        let bound = ZSTD_compressBound(input.count)
        guard ZSTD_isError(bound) == 0 else {
            throw .library(
                operation: "compression", code: 0, name: "input of \(input.count) bytes is too large for one zstd call; use ZstdCompressor")
        }
        var failure: ZstdError?
        let output = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            let written = ZSTD_compress2(cctx, buffer.baseAddress, buffer.count, input.baseAddress, input.count)
            if let error = ZstdError.check(written, ZstdErrorContext(operation: "compression")) {
                failure = error
                count = 0
            } else {
                count = written
            }
        }
        if let failure { throw failure }
        return output
    }

    public static func compress(_ input: [UInt8], level: Int = defaultLevel, workers: Int = 0) throws(ZstdError) -> [UInt8] {
        try input.withZstdBytes { (bytes) throws(ZstdError) in try compress(bytes, level: level, workers: workers) }
    }

    // MARK: One-shot decompression

    /// Decompresses all frames of `input` (concatenated frames give the concatenation).
    ///
    /// `maxOutputBytes` is a hard cap: the result never grows past it, and when the frame
    /// headers already declare more, this fails before decoding anything. A declared size at or
    /// under the cap is used to size the result once; it is never trusted beyond the cap.
    public static func decompress(_ input: UnsafeRawBufferPointer, maxOutputBytes: Int) throws(ZstdError) -> [UInt8] {
        try validateLimit(maxOutputBytes)
        var output: [UInt8] = []
        // Without a declared size (or with malformed headers) the decoder finds the real size
        // and names the real error.
        if let declared = declaredContentSize(input) {
            guard declared <= UInt64(maxOutputBytes) else {
                throw .outputLimitExceeded(limit: maxOutputBytes, declaredSize: declared)
            }
            output.reserveCapacity(Int(declared))
        }
        let decompressor = try ZstdDecompressor(maxOutputBytes: maxOutputBytes)
        defer { decompressor.close() }
        try decompressor.decode(input) { chunk throws(ZstdError) in
            let needed = output.count + chunk.count
            if needed > output.capacity {
                // Grow geometrically, but never reserve past the cap: append's own growth
                // could double a large array well beyond it.
                output.reserveCapacity(min(maxOutputBytes, max(needed, output.capacity * 2)))
            }
            output.append(contentsOf: chunk)
        }
        try decompressor.finish()
        return output
    }

    public static func decompress(_ input: [UInt8], maxOutputBytes: Int) throws(ZstdError) -> [UInt8] {
        try input.withZstdBytes { (bytes) throws(ZstdError) in try decompress(bytes, maxOutputBytes: maxOutputBytes) }
    }

    /// The total decompressed size the frame headers of `input` declare, or nil when a frame
    /// omits it or `input` is not complete zstd data. Untrusted: a header can lie.
    /// A sum past UInt64.max is reported as UInt64.max (it is over any cap anyway).
    public static func declaredContentSize(_ input: UnsafeRawBufferPointer) -> UInt64? {
        guard let base = input.baseAddress, !input.isEmpty else { return nil }
        var offset = 0
        var total: UInt64 = 0
        while offset < input.count {
            let remaining = input.count - offset
            // UInt64.max is ZSTD_CONTENTSIZE_UNKNOWN and UInt64.max - 1 ZSTD_CONTENTSIZE_ERROR
            // (macros Swift cannot import); skippable frames count as 0.
            let size = ZSTD_getFrameContentSize(base + offset, remaining)
            guard size < UInt64.max - 1 else { return nil }
            let frameLength = ZSTD_findFrameCompressedSize(base + offset, remaining)
            guard ZSTD_isError(frameLength) == 0, frameLength > 0 else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(size)
            total = overflow ? UInt64.max : sum
            offset += frameLength
        }
        return total
    }

    public static func declaredContentSize(_ input: [UInt8]) -> UInt64? {
        input.withUnsafeBytes { declaredContentSize($0) }
    }
}
