import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Crash-safe file writes: a power cut leaves either the old or the new content, never half.
enum DurableFile {
    /// Writes `bytes` to a temporary file, fsyncs it, renames it over `path`, fsyncs the
    /// directory (the rename itself must survive too). With `durably: false` the two fsyncs
    /// are left out: readers still see the old or the new content, never half, but a power cut
    /// may lose the new one (only for files whose loss is harmless, like the outbox's count).
    static func replace(_ path: String, with bytes: [UInt8], durably: Bool = true) throws(AgentError) {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure(temporary, "open", errno) }
        do throws(AgentError) {
            try writeAll(fd, bytes, path: temporary)
            guard !durably || fsync(fd) == 0 else { throw failure(temporary, "fsync", errno) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw failure(path, "rename '\(temporary)' to", code)
        }
        if durably { syncDirectory(of: path) }
    }

    /// Appends and fsyncs (the outbox).
    static func append(_ path: String, _ bytes: [UInt8]) throws(AgentError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure(path, "open", errno) }
        defer { close(fd) }
        try writeAll(fd, bytes, path: path)
        guard fsync(fd) == 0 else { throw failure(path, "fsync", errno) }
    }

    static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array($0) }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(AgentError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + done }, $0.count - done) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw failure(path, "write", n < 0 ? errno : ENOSPC) }
            done += n
        }
    }

    static func syncDirectory(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    static func makeDirectory(_ path: String) throws(AgentError) {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw .fileOperationFailed(path: path, operation: "create directory", detail: "\(error)")
        }
    }

    static func failure(_ path: String, _ operation: String, _ code: Int32) -> AgentError {
        .fileOperationFailed(path: path, operation: operation, detail: String(cString: strerror(code)))
    }
}
