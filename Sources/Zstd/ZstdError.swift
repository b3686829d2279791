/// Everything that can go wrong compressing or decompressing, as a value.
///
/// Each case names the thing at fault (a byte offset into the compressed stream, a parameter, a
/// file) and its `description` says what to do about it. Offsets count compressed bytes from the
/// start of the stream (or file), so a report from a device points at the exact frame.
public enum ZstdError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended inside a frame (or held no frame at all). Found when the stream is
    /// finished, because until then more input could still arrive.
    case truncatedInput(compressedBytes: Int)

    /// A frame decoded but its XXH64 content checksum does not match: the data was altered.
    case checksumMismatch(frameOffset: Int)

    /// The decoder found the frame malformed (bad block, bad table, content size that does not
    /// match the header...). `reason` is libzstd's own wording.
    case corruptedInput(frameOffset: Int, reason: String)

    /// The bytes at `frameOffset` do not start with the zstd magic number (nor a skippable
    /// frame's): this is not zstd data. `magic` holds the (up to 4) bytes found there.
    case notZstdData(frameOffset: Int, magic: [UInt8])

    /// Decompression would produce more than `limit` bytes. `declaredSize` is the total the
    /// frame headers announced, when they did and it was already over the limit.
    case outputLimitExceeded(limit: Int, declaredSize: UInt64?)

    /// The frame needs a back-reference window larger than the decoder accepts.
    case windowTooLarge(frameOffset: Int, maxWindowLog: Int)

    /// A parameter is outside what libzstd (or this API) accepts.
    case invalidParameter(name: String, value: Int, allowed: ClosedRange<Int>)

    /// Multi-threaded compression was asked for but libzstd was built without ZSTD_MULTITHREAD.
    case multithreadingUnsupported(workers: Int)

    /// A compressor was told the input size in advance (so it could be written into the frame)
    /// and then received a different number of bytes.
    case inputSizeMismatch(pledged: Int, received: Int)

    /// libzstd could not allocate memory for `operation`.
    case outOfMemory(operation: String)

    /// A file operation failed; `errno` is the POSIX error number.
    case fileOperationFailed(path: String, operation: String, errno: Int32)

    /// The compressor or decompressor was used after `close()`.
    case closed(String)

    /// A libzstd error with no more specific case; `name` is libzstd's error string.
    case library(operation: String, code: Int, name: String)

    public var description: String {
        switch self {
        case .truncatedInput(let bytes):
            return bytes == 0
                ? "zstd input is empty: there is no frame to decompress; check that the data was written and transferred completely"
                : "zstd input is truncated: it ends inside a frame after \(bytes) compressed bytes; the data was cut short (an interrupted download or write), fetch or copy it again"
        case .checksumMismatch(let offset):
            return
                "zstd frame at compressed offset \(offset) failed its content checksum: the data was altered in storage or transit; discard it and fetch it again"
        case .corruptedInput(let offset, let reason):
            return "zstd frame at compressed offset \(offset) is corrupted (\(reason)); discard the data and fetch it again"
        case .notZstdData(let offset, let magic):
            let hex = magic.map { byte in
                let digits = String(byte, radix: 16)
                return digits.count == 1 ? "0" + digits : digits
            }.joined(separator: " ")
            let guess = Self.formatGuess(magic).map { ", which looks like \($0)" } ?? ""
            let place = offset == 0 ? "" : " at compressed offset \(offset), after the valid frames before it"
            return
                "not zstd data\(place) (magic \(hex.isEmpty ? "<none>" : hex)\(guess); zstd frames start with 28 b5 2f fd); pass the file produced by `zstd` or by this library, or decode this format with its own tool"
        case .outputLimitExceeded(let limit, let declared):
            let declaredText = declared.map { " (the frame headers declare \($0) bytes)" } ?? ""
            return
                "zstd output exceeds the limit of \(limit) bytes\(declaredText); decompression stopped there. If the data is trusted and really this large, raise maxOutputBytes; otherwise reject it (possible decompression bomb)"
        case .windowTooLarge(let offset, let log):
            return
                "zstd frame at compressed offset \(offset) needs a window larger than 2^\(log) bytes; recompress without --long/large windows, or raise maxWindowLog if this device can afford the memory"
        case .invalidParameter(let name, let value, let allowed):
            return "zstd parameter \(name) = \(value) is out of range; use a value in \(allowed.lowerBound)...\(allowed.upperBound)"
        case .multithreadingUnsupported(let workers):
            return
                "zstd multi-threaded compression (workers = \(workers)) is unavailable: this libzstd was built without ZSTD_MULTITHREAD; use workers = 0 or install a multi-threaded libzstd"
        case .inputSizeMismatch(let pledged, let received):
            return
                "zstd compressor was promised \(pledged) input bytes but received \(received); the source changed size while being compressed (a file still being written?) — compress it again once it is stable"
        case .outOfMemory(let operation):
            return "zstd could not allocate memory for \(operation); free memory or lower the compression level / worker count"
        case .fileOperationFailed(let path, let operation, let code):
            return
                "cannot \(operation) '\(path)': \(Self.errnoText(code)) (errno \(code)); check that the path exists, is accessible and that the disk has room"
        case .closed(let what):
            return "\(what) was used after close(); create a new one"
        case .library(let operation, let code, let name):
            return "zstd \(operation) failed: \(name) (libzstd error \(code)); this is unexpected — report it with the input that caused it"
        }
    }

    /// Names a few formats people mistake for zstd, so the message tells them what they have.
    static func formatGuess(_ magic: [UInt8]) -> String? {
        func starts(_ prefix: [UInt8]) -> Bool { magic.count >= prefix.count && Array(magic.prefix(prefix.count)) == prefix }
        if starts([0x1f, 0x8b]) { return "gzip" }
        if starts([0xfd, 0x37, 0x7a, 0x58]) { return "xz" }
        if starts([0x42, 0x5a, 0x68]) { return "bzip2" }
        if starts([0x04, 0x22, 0x4d, 0x18]) { return "lz4" }
        if starts([0x50, 0x4b, 0x03, 0x04]) { return "zip" }
        if starts([0xb5, 0x2f, 0xfd]) || starts([0x2f, 0xfd]) { return "zstd data with its first bytes cut off" }
        return nil
    }
}
