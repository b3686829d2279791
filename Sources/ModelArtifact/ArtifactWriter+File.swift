public import Foundation
public import ModelIR

#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

extension ArtifactWriter {
    /// Writes the artifact to `url` atomically: a temporary sibling is written and fsync'd, then
    /// renamed over `url`, and the directory is fsync'd so the rename survives a power cut.
    /// `url` therefore holds either the old file or the complete new one, never a partial one.
    public func write(
        model: Model, manifest: ArtifactManifest, validation: ValidationBundle? = nil,
        packedWeights: [String: PackedTensor] = [:], to url: URL
    ) throws(ArtifactError) {
        let bytes = try write(model: model, manifest: manifest, validation: validation, packedWeights: packedWeights)
        try AtomicFile.write(bytes, to: url.path)
    }
}

enum AtomicFile {
    static func write(_ bytes: [UInt8], to path: String) throws(ArtifactError) {
        let temporary = "\(path).partial-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .fileOperationFailed(path: temporary, operation: "create", errno: errno) }
        var failure: ArtifactError?
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count, let base = raw.baseAddress {
                let n = posixWrite(fd, base + offset, raw.count - offset)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else {
                    failure = .fileOperationFailed(path: temporary, operation: "write", errno: n < 0 ? errno : EIO)
                    return
                }
                offset += n
            }
        }
        if failure == nil, fsync(fd) != 0 { failure = .fileOperationFailed(path: temporary, operation: "fsync", errno: errno) }
        if close(fd) != 0, failure == nil { failure = .fileOperationFailed(path: temporary, operation: "close", errno: errno) }
        if failure == nil, rename(temporary, path) != 0 {
            failure = .fileOperationFailed(path: path, operation: "rename '\(temporary)' to", errno: errno)
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
        syncDirectory(of: path)
    }

    /// Best effort: some file systems refuse fsync on a directory, and the data itself is
    /// already durable by then.
    static func syncDirectory(of path: String) {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        let fd = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}

// At file scope `write` is the C function, not AtomicFile.write.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
