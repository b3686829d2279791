public import ModelIR

/// A verified artifact, as the reader hands it out: everything in it was bounds-checked,
/// digest-checked and (unless the caller skipped it) signature-checked first.
///
/// Tensors in `model`, `packedWeights` and `validation` borrow `memory` (no copy of weights);
/// each holds a reference to it, so the file stays mapped while any of them is alive.
public struct Artifact: Sendable {
    public let formatVersion: ArtifactFormatVersion
    public let manifest: ArtifactManifest
    public let model: Model
    /// Pre-packed weights by the initializer name they replace (main graph only).
    public let packedWeights: [String: PackedTensor]
    public let validation: ValidationBundle?
    /// Key id of the signature, nil for an unsigned artifact. With `.pinnedKeys` trust it is the
    /// pinned key that verified it; with `.skipSignatureCheck` it is only what the file claims.
    public let signingKeyID: String?
    /// SHA-256 of header + section table, lower-case hex: identifies the artifact's content
    /// (every section's digest is in the table), and is what the signature signs.
    public let contentDigest: String
    public let memory: ArtifactMemory
    /// Whether the reader hashed every section or a caller's verified whole-file digest of the
    /// same file version covered them (`ArtifactReader.open(_:trust:verified:)`).
    public let sectionDigests: SectionDigestCheck
}
