internal import CZstd

/// What a file → file helper read and wrote.
public struct ZstdFileStats: Equatable, Sendable {
    public var bytesRead: Int
    public var bytesWritten: Int

    public init(bytesRead: Int, bytesWritten: Int) {
        self.bytesRead = bytesRead
        self.bytesWritten = bytesWritten
    }
}

extension Zstd {
    /// Read buffer of the file helpers. 1 MiB keeps syscalls rare and is small beside anything
    /// we compress; the helpers hold this, one ~128 KiB output buffer and libzstd's context.
    public static let defaultFileBufferSize = 1 << 20

    /// Streams `source` into a zstd file at `destination`, never holding more than
    /// `bufferSize` bytes of the input in memory. A regular file's size is written into the
    /// frame; if the file changes size meanwhile this fails with `.inputSizeMismatch`.
    ///
    /// The output is written to a temporary sibling and renamed over `destination` only once
    /// complete, so `destination` never holds a partial file. Blocking: keep it off the
    /// cooperative thread pool.
    @discardableResult
    public static func compressFile(
        at source: String, to destination: String, level: Int = defaultLevel, workers: Int = 0,
        bufferSize: Int = defaultFileBufferSize
    ) throws(ZstdError) -> ZstdFileStats {
        try validateBufferSize(bufferSize)
        let input = try PosixFile.openForReading(source)
        let compressor = try ZstdCompressor(level: level, workers: workers, pledgedInputSize: try input.regularFileSize())
        defer { compressor.close() }
        return try writeAtomically(destination) { (output) throws(ZstdError) in
            try pump(input, bufferSize: bufferSize) { (chunk) throws(ZstdError) in
                try compressor.encode(chunk, ZSTD_e_continue) { (piece) throws(ZstdError) in try output.write(piece) }
            }
            try compressor.encode(UnsafeRawBufferPointer(start: nil, count: 0), ZSTD_e_end) {
                (piece) throws(ZstdError) in try output.write(piece)
            }
            return ZstdFileStats(bytesRead: compressor.bytesIn, bytesWritten: compressor.bytesOut)
        }
    }

    /// Streams the zstd file `source` (any number of concatenated frames) into `destination`,
    /// stopping with `.outputLimitExceeded` before writing more than `maxOutputBytes`. Memory
    /// stays at `bufferSize` plus the decoder's window and one output block.
    ///
    /// On any error `destination` is left untouched (the partial output is removed).
    ///
    /// `observe` sees every decompressed piece, in order, as it is written: a caller that checks
    /// a digest of the output feeds its hasher there instead of reading the file back.
    @discardableResult
    public static func decompressFile(
        at source: String, to destination: String, maxOutputBytes: Int,
        maxWindowLog: Int = defaultMaxWindowLog, bufferSize: Int = defaultFileBufferSize,
        observe: (UnsafeRawBufferPointer) -> Void = { _ in }
    ) throws(ZstdError) -> ZstdFileStats {
        try validateBufferSize(bufferSize)
        let input = try PosixFile.openForReading(source)
        let decompressor = try ZstdDecompressor(maxOutputBytes: maxOutputBytes, maxWindowLog: maxWindowLog)
        defer { decompressor.close() }
        return try writeAtomically(destination) { (output) throws(ZstdError) in
            try pump(input, bufferSize: bufferSize) { (chunk) throws(ZstdError) in
                try decompressor.decode(chunk) { (piece) throws(ZstdError) in
                    try output.write(piece)
                    observe(piece)
                }
            }
            try decompressor.finish()
            return ZstdFileStats(bytesRead: decompressor.bytesIn, bytesWritten: decompressor.bytesOut)
        }
    }

    // MARK: Plumbing

    static func validateBufferSize(_ size: Int) throws(ZstdError) {
        guard (1...(1 << 30)).contains(size) else {
            throw .invalidParameter(name: "bufferSize", value: size, allowed: 1...(1 << 30))
        }
    }

    /// Reads `file` to its end through one buffer of `bufferSize` bytes, handing each read on.
    private static func pump(
        _ file: PosixFile, bufferSize: Int, _ body: (UnsafeRawBufferPointer) throws(ZstdError) -> Void
    ) throws(ZstdError) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = try file.read(into: buffer)
            if count == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }

    /// Runs `body` against a temporary sibling of `destination`, syncs it, then renames it into
    /// place; on failure the temporary file is removed and `destination` is left as it was.
    /// (The caller syncs the directory when the rename itself must survive a power cut.)
    private static func writeAtomically<T>(
        _ destination: String, _ body: (PosixFile) throws(ZstdError) -> T
    ) throws(ZstdError) -> T {
        let temporary = "\(destination).partial-\(PosixFile.processID)"
        do throws(ZstdError) {
            let output = try PosixFile.create(temporary)
            let result = try body(output)
            try output.sync()
            try output.close()
            try PosixFile.rename(temporary, to: destination)
            return result
        } catch {
            PosixFile.removeIfPresent(temporary)
            throw error
        }
    }
}
