public import ModelIR

/// Model + manifest (+ validation bundle, packed weights) → artifact bytes.
///
/// Deterministic: the same inputs give byte-identical output (JSON is canonical, tensors are laid
/// out in one fixed order, Ed25519 signatures are deterministic, and nothing reads a clock).
public struct ArtifactWriter: Sendable {
    public var signingKey: ArtifactSigningKey?

    /// Without a key the artifact is unsigned: devices that pin keys will refuse it.
    public init(signingKey: ArtifactSigningKey? = nil) {
        self.signingKey = signingKey
    }

    /// Builds the artifact in memory. The model must pass `Graph.validate` (packed weight names
    /// count as defined); derived manifest fields are filled in from it. The result is read back
    /// with `ArtifactReader` before it is returned, so the writer never emits a file a device
    /// would refuse.
    public func write(
        model: Model, manifest: ArtifactManifest, validation: ValidationBundle? = nil,
        packedWeights: [String: PackedTensor] = [:]
    ) throws(ArtifactError) -> [UInt8] {
        do { try model.graph.validate(outerScope: Set(packedWeights.keys)) } catch {
            throw .unsupportedModel(path: "graph", detail: "the graph does not validate: \(error)")
        }
        var encoder = GraphEncoder()
        let graphJSON = try encoder.encode(model, packedWeights: packedWeights).canonicalBytes
        let weights = encoder.weights

        var manifest = manifest
        manifest.formatVersion = .current
        manifest.inputs = model.graph.inputs
        manifest.outputs = model.graph.outputs
        manifest.totalWeightBytes = weights.tensorBytes
        manifest.opsUsed = ArtifactManifest.opsUsed(by: model.graph)

        var sections: [(SectionKind, [UInt8])] = [
            (.manifest, manifest.json.canonicalBytes), (.graph, graphJSON), (.weights, weights.bytes),
        ]
        if let validation {
            var data = TensorDataBuilder()
            let index = validation.encode(into: &data).canonicalBytes
            sections.append((.validationIndex, index))
            sections.append((.validationData, data.bytes))
        }
        let file = try Self.assemble(sections, signingKey: signingKey)
        _ = try ArtifactReader.read(bytes: file, trust: signingKey.map { .pinnedKeys([$0.publicKey]) } ?? .skipSignatureCheck)
        return file
    }

    /// Lays out `sections` (in this order) after the header and table, fills in their
    /// digests and, with a key, appends the signature section.
    static func assemble(_ sections: [(SectionKind, [UInt8])], signingKey: ArtifactSigningKey?) throws(ArtifactError) -> [UInt8] {
        var sections = sections
        if signingKey != nil {
            // The payload has a fixed size, so the table (which the signature covers) is final
            // before the signature exists.
            sections.append((.signature, [UInt8](repeating: 0, count: ArtifactFormat.signatureSectionSize)))
        }
        for (kind, bytes) in sections where kind != .weights && kind != .validationData && bytes.count > ArtifactFormat.maxJSONSectionBytes
        {
            throw .unsupportedModel(
                path: kind.description,
                detail: "the section is \(bytes.count) bytes, above the \(ArtifactFormat.maxJSONSectionBytes)-byte limit readers enforce")
        }
        var entries = ArtifactLayout.place(sections.map { ($0.0, $0.1.count) })
        for i in entries.indices where sections[i].0 != .signature {
            entries[i].digest = SHA256Digest.of(sections[i].1)
        }
        let fileLength = entries.last.map(\.end) ?? ArtifactFormat.headerSize
        let (header, headerDigest) = ArtifactLayout.encode(entries: entries, fileLength: fileLength)
        if let signingKey, let last = sections.indices.last {
            sections[last].1 = try signaturePayload(headerDigest: headerDigest, key: signingKey)
        }
        var file = header
        file.reserveCapacity(fileLength)
        for (entry, section) in zip(entries, sections) {
            file.append(contentsOf: repeatElement(0, count: entry.offset - file.count))
            file.append(contentsOf: section.1)
        }
        return file
    }

    static func signaturePayload(headerDigest: [UInt8], key: ArtifactSigningKey) throws(ArtifactError) -> [UInt8] {
        var w = ByteWriter()
        w.appendLE(ArtifactFormat.signatureAlgorithmEd25519)
        w.appendLE(UInt32(0))
        w.append(key.publicKey.keyIDBytes)
        w.append(try key.sign(ArtifactFormat.signatureContext + headerDigest))
        return w.bytes
    }
}
