import Foundation
import ModelArtifact

#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// What a device persists to resume a download after a restart: the plan it follows and the
/// chunks already written (and synced) to the download file.
public struct ChunkProgress: Codable, Sendable, Hashable {
    public var plan: ChunkPlan
    public var have: ChunkBitmap

    public init(plan: ChunkPlan, have: ChunkBitmap) {
        self.plan = plan
        self.have = have
    }
}

/// Rebuilds a compressed artifact from chunk frames arriving in any order, duplicated or
/// corrupted, writing each verified chunk at its offset in the download file (pwrite), so
/// memory stays at one chunk whatever the artifact size.
///
/// Persisting progress: call `checkpoint()`, which syncs the file *before* returning the
/// bitmap to persist — a bitmap on disk never claims a chunk whose bytes could still be lost.
/// Not thread-safe: one owner (the agent's download task) drives it.
public final class ChunkReassembler {
    public let plan: ChunkPlan
    public let path: String
    /// SHA-256 (hex) of the whole compressed artifact, from the signed desired state.
    public let expectedSHA256: String
    public private(set) var have: ChunkBitmap
    /// The chunks the last `checkpoint()` synced: the most a persisted bitmap may claim.
    /// Chunks in `have` but not here were written (pwrite) but may still be lost by a power cut.
    public private(set) var synced: ChunkBitmap
    private var fd: Int32
    /// The plan's artifact digest as raw bytes, to recognise duplicate frames by their header.
    private let digestBytes: [UInt8]

    /// Opens (creating or truncating) the download file, or reopens it to continue `resume`.
    /// `maxBytes` caps the download size whatever the plan says.
    public init(plan: ChunkPlan, expectedSHA256: String, path: String, maxBytes: Int, resume: ChunkProgress? = nil) throws(ChunkError) {
        guard plan.totalSize <= maxBytes else {
            throw .invalidPlan(detail: "the artifact is \(plan.totalSize) bytes, above this device's cap of \(maxBytes)")
        }
        if let resume {
            guard resume.plan == plan else {
                throw .progressMismatch(
                    detail:
                        "progress is for \(resume.plan.artifactDigest) (\(resume.plan.totalSize) bytes in \(resume.plan.chunkSize)-byte chunks)"
                )
            }
            guard resume.have.count == plan.chunkCount else {
                throw .progressMismatch(detail: "bitmap of \(resume.have.count) chunks for a plan of \(plan.chunkCount)")
            }
        }
        let flags = O_RDWR | O_CREAT | O_CLOEXEC | (resume == nil ? O_TRUNC : 0)
        let fd = open(path, flags, 0o600)
        guard fd >= 0 else { throw .fileOperationFailed(path: path, operation: "open", errno: errno) }
        // Reserve the space now so a full disk shows at the start, not at chunk 57 of 64.
        // File systems (and devices) that cannot preallocate fall through to pwrite's errors.
        let reserve = posix_fallocate(fd, 0, off_t(plan.totalSize))
        if reserve == ENOSPC || reserve == EDQUOT {
            closeDescriptor(fd)
            throw .diskFull(path: path, neededBytes: plan.totalSize)
        }
        self.fd = fd
        self.plan = plan
        self.path = path
        self.expectedSHA256 = expectedSHA256
        self.digestBytes = Hex.bytes(plan.artifactDigest) ?? []
        self.have = resume?.have ?? ChunkBitmap(count: plan.chunkCount)
        // A resumed bitmap was persisted only after its sync, by the rule above.
        self.synced = self.have
    }

    deinit { if fd >= 0 { closeDescriptor(fd) } }

    public func close() {
        if fd >= 0 { closeDescriptor(fd) }
        fd = -1
    }

    public var isComplete: Bool { have.isComplete }
    public var missingRanges: [ChunkRange] { have.missingRanges }
    public var progress: ChunkProgress { ChunkProgress(plan: plan, have: have) }

    /// Decodes and stores a frame. Returns true for a new chunk, false for a duplicate.
    @discardableResult
    public func accept(frameBytes: [UInt8]) throws(ChunkError) -> Bool {
        // A chunk already stored is dropped before its payload is hashed: a pass serves every
        // device of a class, so most frames a late joiner hears again are duplicates.
        if let index = ChunkFrame.peekIndex(frameBytes, artifactDigest: digestBytes), have.contains(index) { return false }
        // `decodeInPlace` has checked the payload against the header's digest already; the
        // payload is written from the frame's own bytes, not copied out first.
        let (header, payloadStart) = try ChunkFrame.decodeInPlace(frameBytes)
        return try store(header, frameBytes[payloadStart...], payloadChecked: true)
    }

    @discardableResult
    public func accept(_ frame: ChunkFrame) throws(ChunkError) -> Bool {
        try store(frame.header, frame.payload[...], payloadChecked: false)
    }

    private func store(_ h: ChunkHeader, _ payload: ArraySlice<UInt8>, payloadChecked: Bool) throws(ChunkError) -> Bool {
        guard h.artifactDigest == plan.artifactDigest else {
            throw .doesNotFitPlan(index: h.index, detail: "it belongs to artifact \(h.artifactDigest), not \(plan.artifactDigest)")
        }
        guard h.count == plan.chunkCount, h.totalSize == plan.totalSize, h.index >= 0, h.index < plan.chunkCount else {
            throw .doesNotFitPlan(
                index: h.index,
                detail: "frame says \(h.count) chunks / \(h.totalSize) bytes, plan says \(plan.chunkCount) / \(plan.totalSize)")
        }
        guard payload.count == plan.length(of: h.index) else {
            throw .doesNotFitPlan(index: h.index, detail: "\(payload.count) bytes, the plan expects \(plan.length(of: h.index))")
        }
        // The payload's own digest: frames built here or decoded are consistent, but a frame
        // assembled by hand might not be.
        guard !have.contains(h.index) else { return false }
        if !payloadChecked {
            let actual = ChunkDigest.hex(payload)
            guard actual == h.chunkSHA256 else { throw .chunkDigestMismatch(index: h.index, expected: h.chunkSHA256, actual: actual) }
        }
        try write(payload, at: plan.offset(of: h.index))
        have.insert(h.index)
        return true
    }

    private func write(_ bytes: ArraySlice<UInt8>, at offset: Int) throws(ChunkError) {
        guard fd >= 0 else { throw .fileOperationFailed(path: path, operation: "pwrite (reassembler closed)", errno: EBADF) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { buf in pwrite(fd, buf.baseAddress.map { $0 + done }, buf.count - done, off_t(offset + done)) }
            if n < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == ENOSPC || code == EDQUOT || code == EFBIG { throw .diskFull(path: path, neededBytes: plan.totalSize) }
                throw .fileOperationFailed(path: path, operation: "pwrite at \(offset + done)", errno: code)
            }
            guard n > 0 else { throw .diskFull(path: path, neededBytes: plan.totalSize) }
            done += n
        }
    }

    /// Syncs the written chunks to disk and returns the progress that is now safe to persist.
    public func checkpoint() throws(ChunkError) -> ChunkProgress {
        guard fd >= 0 else { throw .fileOperationFailed(path: path, operation: "fsync (reassembler closed)", errno: EBADF) }
        if fsync(fd) != 0, errno != EINVAL {
            throw .fileOperationFailed(path: path, operation: "fsync", errno: errno)
        }
        synced = have
        return ChunkProgress(plan: plan, have: synced)
    }

    /// Checks the whole file against the signed size and SHA-256 once every chunk is in. On a
    /// mismatch the progress is reset: which chunk lied cannot be known, so all are fetched again.
    public func finish() throws(ChunkError) {
        guard have.isComplete else { throw .incomplete(missing: plan.chunkCount - have.setCount) }
        _ = try checkpoint()
        let size: Int
        let digest: String
        do { (size, digest) = try ArtifactTransport.sha256(fileAt: URL(fileURLWithPath: path)) } catch {
            throw .fileOperationFailed(path: path, operation: "hash (\(error))", errno: 0)
        }
        guard size == plan.totalSize, digest == expectedSHA256 else {
            have = ChunkBitmap(count: plan.chunkCount)
            synced = have
            throw .artifactDigestMismatch(expected: "\(plan.totalSize) bytes, \(expectedSHA256)", actual: "\(size) bytes, \(digest)")
        }
    }
}

/// `close(2)`, out of reach of the reassembler's own `close()` method in name lookup.
private func closeDescriptor(_ fd: Int32) { _ = close(fd) }
