public import ModelArtifact

/// Which artifact a release is for one hardware class, and how it travels: everything a device
/// needs to subscribe to its chunks, cap the download, and check both forms. Carried inside the
/// signed desired state, so every digest here is as trustworthy as the coordinator's key.
public struct ArtifactDescriptor: Codable, Sendable, Hashable {
    public var modelName: String
    public var modelVersion: String
    /// Monotonic per model (the manifest's `releaseSequence`).
    public var releaseSequence: UInt64
    public var hardwareClass: String
    /// SHA-256 (hex) of the uncompressed artifact: its identity, used in topics and reports.
    public var artifactDigest: String
    public var transport: TransportDigests
    /// Bytes per chunk of the compressed form (the last chunk may be shorter).
    public var chunkSize: Int

    public init(
        modelName: String, modelVersion: String, releaseSequence: UInt64, hardwareClass: String, transport: TransportDigests,
        chunkSize: Int = ChunkPlan.defaultChunkSize
    ) {
        self.modelName = modelName
        self.modelVersion = modelVersion
        self.releaseSequence = releaseSequence
        self.hardwareClass = hardwareClass
        self.artifactDigest = transport.uncompressedSHA256
        self.transport = transport
        self.chunkSize = chunkSize
    }

    /// The chunking of the compressed form this descriptor announces.
    public var chunkPlan: ChunkPlan {
        get throws(ChunkError) {
            try ChunkPlan(artifactDigest: artifactDigest, totalSize: transport.compressedSize, chunkSize: chunkSize)
        }
    }
}

/// Sizes and SHA-256 digests (hex) of both forms of an artifact; the wire form of
/// `ArtifactTransportDigests`.
public struct TransportDigests: Codable, Sendable, Hashable {
    public var uncompressedSize: Int
    public var uncompressedSHA256: String
    public var compressedSize: Int
    public var compressedSHA256: String

    public init(uncompressedSize: Int, uncompressedSHA256: String, compressedSize: Int, compressedSHA256: String) {
        self.uncompressedSize = uncompressedSize
        self.uncompressedSHA256 = uncompressedSHA256
        self.compressedSize = compressedSize
        self.compressedSHA256 = compressedSHA256
    }

    public init(_ digests: ArtifactTransportDigests) {
        uncompressedSize = digests.uncompressedSize
        uncompressedSHA256 = digests.uncompressedSHA256
        compressedSize = digests.compressedSize
        compressedSHA256 = digests.compressedSHA256
    }

    public var artifactTransportDigests: ArtifactTransportDigests {
        ArtifactTransportDigests(
            uncompressedSize: uncompressedSize, uncompressedSHA256: uncompressedSHA256, compressedSize: compressedSize,
            compressedSHA256: compressedSHA256)
    }
}
