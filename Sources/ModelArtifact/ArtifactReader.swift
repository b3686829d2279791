public import Foundation
import ModelIR

/// Opens artifacts from untrusted bytes. Every check runs before anything is handed out: layout
/// (magic, version, bounds, overlaps, alignment, padding), the header digest, the signature
/// (per `trust`), every section's SHA-256, then the JSON sections, every tensor reference, the
/// graph's structure and the manifest's agreement with the graph.
public enum ArtifactReader {
    /// Maps the file read-only; weights are not copied.
    ///
    /// `verified`: the caller's whole-file SHA-256 of this file and the version it had then
    /// (see `VerifiedFile`). When the mapped descriptor still has exactly that version, the
    /// section SHA-256s are not computed again (`Artifact.sectionDigests` says which check ran);
    /// otherwise, or without it, every section is hashed. Layout, bounds, signature and content
    /// checks run either way.
    public static func open(_ url: URL, trust: ArtifactTrust, verified: VerifiedFile? = nil) throws(ArtifactError) -> Artifact {
        let memory = try ArtifactMemory.map(path: url.path)
        var covered: String?
        if let verified, let version = memory.fileVersion, version == verified.version, version.size == memory.byteCount {
            covered = verified.sha256
        }
        return try verify(memory, trust: trust, coveredByWholeFile: covered)
    }

    /// Reads an artifact held in memory (copied once into an aligned block that its tensors
    /// then borrow).
    public static func read(bytes: [UInt8], trust: ArtifactTrust) throws(ArtifactError) -> Artifact {
        try verify(bytes.withUnsafeBytes { ArtifactMemory.copy($0) }, trust: trust)
    }

    static func verify(_ memory: ArtifactMemory, trust: ArtifactTrust, coveredByWholeFile: String? = nil) throws(ArtifactError)
        -> Artifact
    {
        let file = memory.region
        let layout = try ArtifactLayout.parse(file)
        func section(_ e: SectionEntry) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: file[e.offset..<e.end]) }

        guard let manifestEntry = layout.entry(.manifest) else { throw .missingSection("manifest") }
        guard let graphEntry = layout.entry(.graph) else { throw .missingSection("graph") }
        guard let weightsEntry = layout.entry(.weights) else { throw .missingSection("weights") }
        let indexEntry = layout.entry(.validationIndex), dataEntry = layout.entry(.validationData)
        if (indexEntry == nil) != (dataEntry == nil) { throw .missingSection(indexEntry == nil ? "validation index" : "validation data") }
        for e in [manifestEntry, graphEntry, indexEntry].compactMap({ $0 }) where e.length > ArtifactFormat.maxJSONSectionBytes {
            throw .malformedLayout(
                offset: e.offset, detail: "\(e.name) is \(e.length) bytes, above the \(ArtifactFormat.maxJSONSectionBytes)-byte limit")
        }
        for e in [weightsEntry, dataEntry].compactMap({ $0 }) where e.offset % ArtifactFormat.tensorAlignment != 0 {
            throw .malformedLayout(offset: e.offset, detail: "\(e.name) is not aligned to \(ArtifactFormat.tensorAlignment) bytes")
        }

        let signer = try checkSignature(layout.entry(.signature).map { ($0.offset, section($0)) }, layout: layout, trust: trust)
        // The header's table (section digests included) is covered by the signature; the
        // sections by their digests, or by a whole-file digest of these very bytes.
        if coveredByWholeFile == nil {
            for e in layout.entries where e.kind != .signature {
                guard SHA256Digest.of(section(e)) == e.digest else { throw .digestMismatch(section: e.name, offset: e.offset) }
            }
        }

        let manifest = try ArtifactManifest(json: try json(section(manifestEntry), "manifest"))
        guard manifest.formatVersion == layout.version else {
            throw .manifestMismatch(
                field: "formatVersion", detail: "manifest says \(manifest.formatVersion), header says \(layout.version)")
        }
        let decoder = GraphDecoder(weights: TensorCoding.Source(region: section(weightsEntry), memory: memory))
        let (model, packed) = try decoder.decode(try json(section(graphEntry), "graph"))
        do { try model.graph.validate(outerScope: Set(packed.keys)) } catch {
            throw .invalidContent(section: "graph", path: "graph", detail: "the graph does not validate: \(error)")
        }
        try crossCheck(manifest, model: model, packed: packed)

        var validation: ValidationBundle?
        if let indexEntry, let dataEntry {
            validation = try ValidationBundle(
                json: try json(section(indexEntry), "validation index"),
                data: TensorCoding.Source(region: section(dataEntry), memory: memory))
        }
        return Artifact(
            formatVersion: layout.version, manifest: manifest, model: model, packedWeights: packed, validation: validation,
            signingKeyID: signer, contentDigest: Hex.string(layout.headerDigest), memory: memory,
            sectionDigests: coveredByWholeFile.map { .coveredByWholeFile(sha256: $0) } ?? .hashed)
    }

    private static func json(_ bytes: UnsafeRawBufferPointer, _ section: String) throws(ArtifactError) -> JSONField {
        JSONField(section: section, path: section, value: try JSONParser.parse(bytes, section: section))
    }

    /// Returns the signing key id (nil when unsigned and no signature is required).
    private static func checkSignature(
        _ section: (offset: Int, bytes: UnsafeRawBufferPointer)?, layout: ArtifactLayout, trust: ArtifactTrust
    ) throws(ArtifactError) -> String? {
        guard let (sectionOffset, payload) = section else {
            if case .pinnedKeys = trust { throw .unsigned }
            return nil
        }
        var r = ByteReader(payload)
        guard payload.count == ArtifactFormat.signatureSectionSize else {
            throw .malformedLayout(
                offset: sectionOffset,
                detail: "signature section is \(payload.count) bytes, format 1.x writes \(ArtifactFormat.signatureSectionSize)")
        }
        let algorithm = try r.u32(), reserved = try r.u32()
        guard algorithm == ArtifactFormat.signatureAlgorithmEd25519, reserved == 0 else {
            throw .malformedLayout(offset: sectionOffset, detail: "signature algorithm \(algorithm) is not Ed25519 (1)")
        }
        let keyIDBytes = try r.bytes(8), signature = try r.bytes(64)
        let keyID = Hex.string(keyIDBytes)
        guard case .pinnedKeys(let keys) = trust else { return keyID }
        guard let key = keys.first(where: { $0.keyIDBytes == keyIDBytes }) else {
            throw .unknownSigningKey(keyID: keyID, pinned: keys.map(\.keyID))
        }
        guard key.isValidSignature(signature, for: ArtifactFormat.signatureContext + layout.headerDigest) else {
            throw .badSignature(keyID: keyID)
        }
        return keyID
    }

    /// The manifest's derived fields must describe exactly this graph.
    private static func crossCheck(_ manifest: ArtifactManifest, model: Model, packed: [String: PackedTensor]) throws(ArtifactError) {
        guard manifest.inputs == model.graph.inputs else {
            throw .manifestMismatch(field: "inputs", detail: "manifest lists \(manifest.inputs), the graph has \(model.graph.inputs)")
        }
        guard manifest.outputs == model.graph.outputs else {
            throw .manifestMismatch(field: "outputs", detail: "manifest lists \(manifest.outputs), the graph has \(model.graph.outputs)")
        }
        let ops = ArtifactManifest.opsUsed(by: model.graph)
        guard manifest.opsUsed == ops else {
            throw .manifestMismatch(field: "opsUsed", detail: "manifest lists \(manifest.opsUsed), the graph uses \(ops)")
        }
        let bytes = weightBytes(model.graph) + packed.values.reduce(0) { $0 + $1.byteCount }
        guard manifest.totalWeightBytes == bytes else {
            throw .manifestMismatch(
                field: "totalWeightBytes", detail: "manifest says \(manifest.totalWeightBytes), the graph's tensors hold \(bytes)")
        }
    }

    /// Bytes of every tensor stored in the weights section for `graph` (initializers and
    /// attribute tensors, subgraphs included).
    static func weightBytes(_ graph: Graph) -> Int {
        var total = graph.initializers.values.reduce(0) { $0 + $1.byteCount }
        for node in graph.nodes {
            for attribute in node.attributes.values {
                switch attribute {
                case .tensor(let t): total += t.byteCount
                case .tensors(let ts): total += ts.reduce(0) { $0 + $1.byteCount }
                case .graph(let g): total += weightBytes(g)
                case .graphs(let gs): total += gs.reduce(0) { $0 + weightBytes($1) }
                default: break
                }
            }
        }
        return total
    }
}
