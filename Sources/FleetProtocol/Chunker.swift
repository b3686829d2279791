#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// Cuts a compressed artifact into chunk frames: from memory, or from a file one chunk at a
/// time (the coordinator republishes single chunks on request without loading the file).
public enum Chunker {
    public static func frames(of bytes: [UInt8], plan: ChunkPlan) throws(ChunkError) -> [ChunkFrame] {
        guard bytes.count == plan.totalSize else {
            throw .invalidPlan(detail: "the plan says \(plan.totalSize) bytes, the artifact has \(bytes.count)")
        }
        return (0..<plan.chunkCount).map { i in
            ChunkFrame(plan: plan, index: i, payload: Array(bytes[plan.offset(of: i)..<plan.offset(of: i) + plan.length(of: i)]))
        }
    }

    /// Chunk `index` of the file at `path`, read with pread.
    public static func frame(fileAt path: String, plan: ChunkPlan, index: Int) throws(ChunkError) -> ChunkFrame {
        guard index >= 0, index < plan.chunkCount else {
            throw .doesNotFitPlan(index: index, detail: "the artifact has \(plan.chunkCount) chunks")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .fileOperationFailed(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var payload = [UInt8](repeating: 0, count: plan.length(of: index))
        var done = 0
        while done < payload.count {
            let n = payload.withUnsafeMutableBytes { buf in
                pread(fd, buf.baseAddress.map { $0 + done }, buf.count - done, off_t(plan.offset(of: index) + done))
            }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw .fileOperationFailed(path: path, operation: "pread", errno: errno) }
            guard n > 0 else { throw .invalidPlan(detail: "'\(path)' is shorter than the plan's \(plan.totalSize) bytes") }
            done += n
        }
        return ChunkFrame(plan: plan, index: index, payload: payload)
    }
}
