/// Everything chunk framing, chunking and reassembly can refuse, as values. A device treats
/// each as "drop this chunk / this download attempt", never as fatal.
public enum ChunkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The frame is not a chunk frame (magic, version, lengths, reserved fields).
    case malformedFrame(detail: String)
    /// The payload does not hash to the SHA-256 in its header: corrupted in transit.
    case chunkDigestMismatch(index: Int, expected: String, actual: String)
    /// A chunk of another artifact, or with an index/count/size that does not fit the plan.
    case doesNotFitPlan(index: Int, detail: String)
    /// The plan is impossible (size zero or above the cap, chunk size out of range).
    case invalidPlan(detail: String)
    /// The whole reassembled file does not match the size and SHA-256 the signed desired state
    /// announced.
    case artifactDigestMismatch(expected: String, actual: String)
    /// `finish()` before every chunk arrived.
    case incomplete(missing: Int)
    /// The device ran out of space writing the download.
    case diskFull(path: String, neededBytes: Int)
    case fileOperationFailed(path: String, operation: String, errno: Int32)
    /// A persisted progress record for another artifact or plan.
    case progressMismatch(detail: String)

    public var description: String {
        switch self {
        case .malformedFrame(let detail):
            return "not a Flotilla chunk frame: \(detail); the publisher is buggy or speaks another version, the frame is dropped"
        case .chunkDigestMismatch(let index, let expected, let actual):
            return
                "chunk \(index) is corrupted: its payload hashes to \(actual), its header says \(expected); it is dropped and re-requested"
        case .doesNotFitPlan(let index, let detail):
            return "chunk \(index) does not belong to this download: \(detail); it is dropped"
        case .invalidPlan(let detail):
            return "invalid chunk plan: \(detail); fix the desired state's artifact size or chunk size"
        case .artifactDigestMismatch(let expected, let actual):
            return "the reassembled artifact does not match the signed desired state: expected \(expected), got \(actual); "
                + "the download is discarded and fetched again"
        case .incomplete(let missing):
            return "the download is incomplete: \(missing) chunks are missing; request them before finishing"
        case .diskFull(let path, let needed):
            return "no space left on the device writing '\(path)' (\(needed) bytes needed); free space or lower the model size cap"
        case .fileOperationFailed(let path, let operation, let code):
            return "\(operation) failed on '\(path)' (errno \(code)); check the download directory's permissions and file system"
        case .progressMismatch(let detail):
            return "the persisted download progress does not belong to this download: \(detail); the download starts over"
        }
    }
}
