internal import CZstd

#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// Where a libzstd result code came from, so one mapping function can name the right thing.
struct ZstdErrorContext {
    /// What we were doing, for the message ("compression", "decompression", ...).
    var operation: String
    /// Compressed offset of the frame being decoded (decompression only).
    var frameOffset: Int = 0
    /// The first bytes of that frame, to show when they are not a zstd magic number.
    var frameHead: [UInt8] = []
    /// The decoder's window limit, for the "window too large" message.
    var maxWindowLog: Int = 0
    /// For compressors with a pledged source size.
    var pledgedSize: Int? = nil
    var receivedSize: Int = 0
}

extension ZstdError {
    /// Returns nil when `result` is not a libzstd error code, else the matching typed error.
    /// This is the one place libzstd's codes become `ZstdError` values.
    static func check(_ result: Int, _ context: @autoclosure () -> ZstdErrorContext) -> ZstdError? {
        guard ZSTD_isError(result) != 0 else { return nil }
        return map(result, context())
    }

    static func map(_ result: Int, _ context: ZstdErrorContext) -> ZstdError {
        let code = ZSTD_getErrorCode(result)
        let name = ZSTD_getErrorName(result).map { String(cString: $0) } ?? "unknown error"
        switch code {
        case ZSTD_error_prefix_unknown:
            return .notZstdData(frameOffset: context.frameOffset, magic: context.frameHead)
        case ZSTD_error_checksum_wrong:
            return .checksumMismatch(frameOffset: context.frameOffset)
        case ZSTD_error_frameParameter_windowTooLarge:
            return .windowTooLarge(frameOffset: context.frameOffset, maxWindowLog: context.maxWindowLog)
        case ZSTD_error_memory_allocation:
            return .outOfMemory(operation: context.operation)
        case ZSTD_error_srcSize_wrong where context.pledgedSize != nil:
            return .inputSizeMismatch(pledged: context.pledgedSize ?? 0, received: context.receivedSize)
        case ZSTD_error_corruption_detected, ZSTD_error_literals_headerWrong, ZSTD_error_srcSize_wrong,
            ZSTD_error_frameParameter_unsupported, ZSTD_error_version_unsupported,
            ZSTD_error_dictionary_corrupted, ZSTD_error_dictionary_wrong, ZSTD_error_tableLog_tooLarge,
            ZSTD_error_maxSymbolValue_tooLarge, ZSTD_error_maxSymbolValue_tooSmall:
            // Bad bytes inside a frame whose magic was fine. `dictionary_wrong` lands here too:
            // Flotilla never compresses with dictionaries, so a frame asking for one is not ours.
            return .corruptedInput(frameOffset: context.frameOffset, reason: name)
        default:
            return .library(operation: context.operation, code: Int(code.rawValue), name: name)
        }
    }

    /// strerror, kept here so no caller needs the C library to describe a file error.
    static func errnoText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "unknown error" }
        return String(cString: text)
    }
}
