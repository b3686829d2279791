internal import Crypto
public import Foundation
import Zstd

#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// Sizes and SHA-256 digests of both forms of an artifact, for the desired-state message: the
/// device checks the download (compressed) before decompressing, and the result (uncompressed)
/// before installing.
public struct ArtifactTransportDigests: Sendable, Hashable {
    public var uncompressedSize: Int
    /// Lower-case hex.
    public var uncompressedSHA256: String
    public var compressedSize: Int
    public var compressedSHA256: String

    public init(uncompressedSize: Int, uncompressedSHA256: String, compressedSize: Int, compressedSHA256: String) {
        self.uncompressedSize = uncompressedSize
        self.uncompressedSHA256 = uncompressedSHA256
        self.compressedSize = compressedSize
        self.compressedSHA256 = compressedSHA256
    }
}

/// The delivery form of an artifact: one zstd frame of the whole file (level 3, content checksum
/// and content size on), decompressed on the device with a hard size cap.
public enum ArtifactTransport {
    public static let compressionLevel = 3

    public static func compress(_ artifact: [UInt8]) throws(ArtifactError) -> (compressed: [UInt8], digests: ArtifactTransportDigests) {
        let compressed: [UInt8]
        do { compressed = try Zstd.compress(artifact, level: compressionLevel) } catch {
            throw .compressionFailed(detail: error.description)
        }
        let digests = ArtifactTransportDigests(
            uncompressedSize: artifact.count, uncompressedSHA256: Hex.string(SHA256.hash(data: artifact)),
            compressedSize: compressed.count, compressedSHA256: Hex.string(SHA256.hash(data: compressed)))
        return (compressed, digests)
    }

    /// Streams `source` into a compressed file at `destination` (written atomically).
    public static func compress(fileAt source: URL, to destination: URL) throws(ArtifactError) -> ArtifactTransportDigests {
        do { try Zstd.compressFile(at: source.path, to: destination.path, level: compressionLevel) } catch {
            throw .compressionFailed(detail: error.description)
        }
        let (size, digest) = try sha256(fileAt: source)
        let (compressedSize, compressedDigest) = try sha256(fileAt: destination)
        return ArtifactTransportDigests(
            uncompressedSize: size, uncompressedSHA256: digest, compressedSize: compressedSize, compressedSHA256: compressedDigest)
    }

    /// Checks the compressed file against `expected`, decompresses it with the output capped at
    /// `expected.uncompressedSize` (and `maxBytes`), checks the result, and only then renames
    /// it to `destination`. On any failure `destination` is untouched.
    ///
    /// `compressedVerifiedAt`: the version of `source` whose size and SHA-256 the caller already
    /// checked against `expected` (a download verified before install). While `source` still has
    /// that version the compressed file is not hashed again; otherwise it is, as without it. The
    /// decompressed digest is checked either way, so nothing unchecked is ever renamed into place.
    ///
    /// Returns the proof for `ArtifactReader.open(_:trust:verified:)`: the checked whole-file
    /// digest and the version `destination` has after the rename, when it is still the inode
    /// this call wrote (nil if that cannot be established: the reader then hashes as before).
    @discardableResult
    public static func decompress(
        fileAt source: URL, to destination: URL, expected: ArtifactTransportDigests, maxBytes: Int,
        compressedVerifiedAt verified: FileVersion? = nil
    ) throws(ArtifactError) -> VerifiedFile? {
        let current = verified == nil ? nil : FileVersion.of(path: source.path)
        if current == nil || current != verified || current?.size != expected.compressedSize {
            let (compressedSize, compressedDigest) = try sha256(fileAt: source)
            guard compressedSize == expected.compressedSize, compressedDigest == expected.compressedSHA256 else {
                throw .transportMismatch(
                    what: "compressed file (size, SHA-256)", expected: "\(expected.compressedSize), \(expected.compressedSHA256)",
                    actual: "\(compressedSize), \(compressedDigest)")
            }
        }
        let cap = min(maxBytes, expected.uncompressedSize)
        let temporary = "\(destination.path).unpacking-\(getpid())"
        // The output is hashed as the decompressor hands it out, not read back from the disk.
        var hasher = SHA256()
        let stats: ZstdFileStats
        do {
            stats = try Zstd.decompressFile(at: source.path, to: temporary, maxOutputBytes: cap) { hasher.update(bufferPointer: $0) }
        } catch {
            throw .compressionFailed(detail: error.description)
        }
        let size = stats.bytesWritten
        let digest = Hex.string(hasher.finalize())
        guard size == expected.uncompressedSize, digest == expected.uncompressedSHA256 else {
            unlink(temporary)
            throw .transportMismatch(
                what: "decompressed artifact (size, SHA-256)", expected: "\(expected.uncompressedSize), \(expected.uncompressedSHA256)",
                actual: "\(size), \(digest)")
        }
        let written = FileVersion.of(path: temporary)
        guard rename(temporary, destination.path) == 0 else {
            let code = errno
            unlink(temporary)
            throw .fileOperationFailed(path: destination.path, operation: "rename '\(temporary)' to", errno: code)
        }
        AtomicFile.syncDirectory(of: destination.path)
        // The rename moves the inode's ctime, so the version to hand on is the one after it; it
        // must still be the inode written and hashed above, at the checked size.
        guard let written, let installed = FileVersion.of(path: destination.path), installed.device == written.device,
            installed.inode == written.inode, installed.size == size
        else { return nil }
        return VerifiedFile(sha256: digest, version: installed)
    }

    /// Size and SHA-256 (hex) of a file, read in 1 MiB blocks.
    public static func sha256(fileAt url: URL) throws(ArtifactError) -> (size: Int, sha256: String) {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .fileOperationFailed(path: url.path, operation: "open", errno: errno) }
        defer { close(fd) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var hasher = SHA256()
        var total = 0
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw .fileOperationFailed(path: url.path, operation: "read", errno: errno) }
            if n == 0 { break }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            total += n
        }
        return (total, Hex.string(hasher.finalize()))
    }
}
