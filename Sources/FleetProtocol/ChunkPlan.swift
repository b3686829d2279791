/// How one compressed artifact is cut into chunks: every chunk is `chunkSize` bytes except the
/// last, and chunk `i` starts at byte `i * chunkSize`.
public struct ChunkPlan: Codable, Sendable, Hashable {
    /// 256 KiB: measured on Mosquitto (docs/protocol.md), 256 KiB–1 MiB chunks keep the broker's
    /// memory flat at any subscriber count and stay far below common `message_size_limit`s
    /// (AWS IoT Core's 128 KiB is the exception: configure 96 KiB there).
    public static let defaultChunkSize = 256 * 1024
    /// Frames must fit brokers' limits; 16 MiB is well above any sensible setting.
    public static let chunkSizeRange = 1024...(16 << 20)
    /// Indices are 32-bit on the wire.
    public static let maxChunkCount = Int(UInt32.max)

    public var artifactDigest: String
    public var totalSize: Int
    public var chunkSize: Int

    public init(artifactDigest: String, totalSize: Int, chunkSize: Int = defaultChunkSize) throws(ChunkError) {
        do { try TopicID.validateDigest(artifactDigest) } catch { throw .invalidPlan(detail: error.description) }
        guard Self.chunkSizeRange.contains(chunkSize) else {
            throw .invalidPlan(detail: "chunk size \(chunkSize) is outside \(Self.chunkSizeRange)")
        }
        guard totalSize > 0 else { throw .invalidPlan(detail: "artifact size \(totalSize) must be positive") }
        guard (totalSize - 1) / chunkSize + 1 <= Self.maxChunkCount else {
            throw .invalidPlan(detail: "\(totalSize) bytes in \(chunkSize)-byte chunks needs more than \(Self.maxChunkCount) chunks")
        }
        self.artifactDigest = artifactDigest
        self.totalSize = totalSize
        self.chunkSize = chunkSize
    }

    public var chunkCount: Int { (totalSize - 1) / chunkSize + 1 }

    public func offset(of index: Int) -> Int { index * chunkSize }

    /// Byte length of chunk `index` (0..<chunkCount).
    public func length(of index: Int) -> Int {
        index == chunkCount - 1 ? totalSize - offset(of: index) : chunkSize
    }
}
