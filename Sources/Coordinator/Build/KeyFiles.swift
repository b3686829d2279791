import Foundation
import ModelArtifact

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The keyring's file operations: private keys created 0600 from the first byte (open with
/// O_EXCL and the mode, not chmod afterwards), permission checks before a private key is read,
/// and the index replaced by rename.
enum KeyFiles {
    static func makeDirectory(_ url: URL) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw KeyringError.unreadable(path: url.path, detail: "exists and is not a directory") }
            return
        }
        do {
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw KeyringError.unreadable(path: url.deletingLastPathComponent().path, detail: "cannot create it: \(error)")
        }
        guard mkdir(url.path, 0o700) == 0 || errno == EEXIST else {
            throw KeyringError.io(path: url.path, operation: "create", errno: errno)
        }
        // mkdir's mode is filtered by the umask; make it exact.
        guard chmod(url.path, 0o700) == 0 else { throw KeyringError.io(path: url.path, operation: "chmod 700", errno: errno) }
    }

    static func writePrivateKey(_ key: ArtifactSigningKey, in directory: URL) throws {
        let path = directory.appendingPathComponent("\(key.keyID).key").path
        try write(Array(key.pemRepresentation.utf8), to: path, mode: 0o600, exclusive: true)
    }

    static func writePublicKey(_ key: ArtifactPublicKey, in directory: URL) throws {
        let path = directory.appendingPathComponent("\(key.keyID).pub").path
        try write(Array(key.pemRepresentation.utf8), to: path, mode: 0o644, exclusive: false)
    }

    static func readPrivateKey(id: String, in directory: URL) throws -> ArtifactSigningKey {
        let path = directory.appendingPathComponent("\(id).key").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw KeyringError.unreadable(path: path, detail: "the active key's file is missing; restore it from a backup")
        }
        let key = try readPrivateKey(path: path)
        guard key.keyID == id else { throw KeyringError.corrupt(path: path, detail: "holds key \(key.keyID), not \(id)") }
        return key
    }

    /// Reads a PEM private key after checking that only its owner, this process's user, can
    /// read it.
    static func readPrivateKey(path: String) throws -> ArtifactSigningKey {
        var st = stat()
        guard stat(path, &st) == 0 else { throw KeyringError.io(path: path, operation: "stat", errno: errno) }
        let mode = Int(st.st_mode) & 0o777
        if mode & 0o077 != 0 {
            throw KeyringError.insecurePermissions(
                path: path, mode: mode,
                detail: "group or others can access it; run `chmod 600 \(path)` (and treat the key as leaked if others could read it)")
        }
        if st.st_uid != geteuid() {
            throw KeyringError.insecurePermissions(
                path: path, mode: mode,
                detail: "owned by uid \(st.st_uid), not by this process's uid \(geteuid()); `chown` it to the user that signs")
        }
        do { return try ArtifactSigningKey(pemRepresentation: try String(contentsOfFile: path, encoding: .utf8)) } catch {
            throw KeyringError.corrupt(path: path, detail: "\(error)")
        }
    }

    static func readPublicKey(id: String, in directory: URL) throws -> ArtifactPublicKey {
        let path = directory.appendingPathComponent("\(id).pub").path
        let key: ArtifactPublicKey
        do { key = try ArtifactPublicKey(pemRepresentation: try String(contentsOfFile: path, encoding: .utf8)) } catch {
            throw KeyringError.unreadable(path: path, detail: "\(error)")
        }
        guard key.keyID == id else { throw KeyringError.corrupt(path: path, detail: "holds key \(key.keyID), not \(id)") }
        return key
    }

    struct Index: Codable {
        var active: String
        var next: String?
        var retired: [String]
    }

    static func readIndex(_ url: URL) throws -> Index {
        let index: Index
        do { index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: url)) } catch {
            throw KeyringError.corrupt(path: url.path, detail: "\(error)")
        }
        let ids = [index.active] + [index.next].compactMap { $0 } + index.retired
        for id in ids where id.isEmpty || !id.allSatisfy({ $0.isHexDigit }) {
            throw KeyringError.corrupt(path: url.path, detail: "key id '\(id)' is not hexadecimal")
        }
        return index
    }

    static func writeIndex(_ index: Index, in directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let bytes: Data
        do { bytes = try encoder.encode(index) } catch {
            throw KeyringError.corrupt(path: directory.path, detail: "\(error)")
        }
        let path = directory.appendingPathComponent("keyring.json").path
        let temporary = "\(path).tmp-\(getpid())"
        unlink(temporary)
        try write(Array(bytes), to: temporary, mode: 0o644, exclusive: true)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw KeyringError.io(path: path, operation: "replace", errno: code)
        }
    }

    /// Writes and fsyncs a file created with `mode` (exclusive: it must not exist yet).
    static func write(_ bytes: [UInt8], to path: String, mode: mode_t, exclusive: Bool) throws {
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC)
        let fd = open(path, flags, mode)
        guard fd >= 0 else { throw KeyringError.io(path: path, operation: "create", errno: errno) }
        defer { close(fd) }
        // The umask may have removed bits from `mode`; never added any, but be exact.
        guard fchmod(fd, mode) == 0 else { throw KeyringError.io(path: path, operation: "chmod", errno: errno) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in posixWrite(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw KeyringError.io(path: path, operation: "write", errno: errno) }
            offset += n
        }
        guard fsync(fd) == 0 else { throw KeyringError.io(path: path, operation: "fsync", errno: errno) }
    }

    static func remove(_ url: URL) { unlink(url.path) }
}

// At file scope `write` is the C function, not KeyFiles.write.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }
