import FleetProtocol

/// Size bounds the machine applies to a desired artifact before it downloads anything.
extension UpdateStateMachine {
    /// Both forms must fit under the cap: the compressed one is written to disk as it
    /// arrives, the uncompressed one is written by the install.
    static func sizeRefusal(_ artifact: ArtifactDescriptor, maxBytes: Int) -> FailureReason? {
        let t = artifact.transport
        for (form, size) in [("compressed", t.compressedSize), ("uncompressed", t.uncompressedSize)] where size > maxBytes || size <= 0 {
            return FailureReason(
                code: .invalidDesiredState,
                detail: "the artifact's \(form) size \(size) bytes is "
                    + (size <= 0
                        ? "not positive"
                        : "above this device's maxArtifactBytes \(maxBytes); raise maxArtifactBytes in the agent config if the model is meant to fit"),
                metric: "\(form)Bytes", measured: Double(size), threshold: Double(maxBytes))
        }
        return nil
    }
}
