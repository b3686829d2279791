import Foundation
import Glibc

/// File writes for keys, certificates and bundles: created exclusively with their final mode
/// (a key is never world-readable for an instant), fsync'd, never replaced.
enum PKIFiles {
    /// Mode of private keys and secrets.
    static let privateMode: mode_t = 0o600
    /// Mode of certificates and configs.
    static let publicMode: mode_t = 0o644

    /// Creates `url` with `mode`; throws `.alreadyExists` (with `hint`) if it is there.
    static func create(_ url: URL, contents: String, mode: mode_t, hint: String) throws(PKIError) {
        let bytes = Array(contents.utf8)
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let code = errno
            if code == EEXIST { throw .alreadyExists(path: url.path, hint: hint) }
            throw .io(path: url.path, operation: "create", detail: String(cString: strerror(code)))
        }
        defer { close(fd) }
        // The umask may have taken bits away from `mode`; be exact.
        guard fchmod(fd, mode) == 0 else { throw .io(path: url.path, operation: "chmod", detail: String(cString: strerror(errno))) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in posixWrite(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw .io(path: url.path, operation: "write", detail: String(cString: strerror(errno))) }
            offset += n
        }
        guard fsync(fd) == 0 else { throw .io(path: url.path, operation: "fsync", detail: String(cString: strerror(errno))) }
    }

    /// Replaces `url` atomically (a temporary file beside it, fsync'd, renamed over it, the
    /// directory fsync'd): a reader — the broker loading `crl.pem` — sees the old or the new
    /// file, never a torn one.
    static func replace(_ url: URL, contents: String, mode: mode_t) throws(PKIError) {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        unlink(temporary.path)
        do {
            try create(temporary, contents: contents, mode: mode, hint: "")
        } catch {
            unlink(temporary.path)
            throw error
        }
        guard rename(temporary.path, url.path) == 0 else {
            let detail = String(cString: strerror(errno))
            unlink(temporary.path)
            throw .io(path: url.path, operation: "replace", detail: detail)
        }
        let dir = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    /// Creates `url` and missing parents with `mode` (existing directories are kept as they are).
    static func makeDirectory(_ url: URL, mode: Int = 0o755) throws(PKIError) {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: mode])
        } catch {
            throw .io(path: url.path, operation: "create directory", detail: "\(error.localizedDescription)")
        }
    }

    static func read(_ url: URL) throws(PKIError) -> String {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw .io(path: url.path, operation: "read", detail: "missing or unreadable")
        }
        return String(decoding: data, as: UTF8.self)
    }

    static func exists(_ url: URL) -> Bool { FileManager.default.fileExists(atPath: url.path) }
}

// At file scope `write` is the C function.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }
