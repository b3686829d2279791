/// Everything the artifact writer, reader, signer and transport helpers can reject, as values.
///
/// Each description says what is wrong, names the place (section, byte offset, tensor, key id)
/// and says what to do. A device treats every case as "this file is not installable": it keeps
/// running its current model and re-downloads or reports.
public enum ArtifactError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The bytes do not start with the artifact magic: this is not a Flotilla artifact.
    case notAnArtifact(found: [UInt8])
    /// The file's major format version is not one this reader understands.
    case unsupportedVersion(major: Int, minor: Int, supportedMajor: Int)
    /// The file is shorter than its header, table or a declared length says.
    case truncated(expected: Int, actual: Int)
    /// The header or section table is inconsistent (a field out of range, a reserved field set,
    /// a bad alignment, overlapping sections, bytes not accounted for, ...).
    case malformedLayout(offset: Int, detail: String)
    /// A section's (or the header's) bytes do not hash to the digest recorded for them.
    case digestMismatch(section: String, offset: Int)
    /// A section the format requires is absent, or appears twice.
    case missingSection(String)
    case duplicateSection(String)
    /// A JSON section (manifest, graph, validation index) does not parse or is not canonical.
    case malformedJSON(section: String, offset: Int, detail: String)
    /// The JSON parses but its content is invalid (a field missing, a wrong type, a shape that
    /// overflows, a tensor reference out of bounds...). `path` locates it, e.g.
    /// `graph.nodes[3].attributes.then_branch.initializers.w`.
    case invalidContent(section: String, path: String, detail: String)
    /// The model cannot be written: it holds something the format cannot represent.
    case unsupportedModel(path: String, detail: String)
    /// The manifest disagrees with the graph it describes.
    case manifestMismatch(field: String, detail: String)

    // Signatures
    /// A signature was required but the artifact carries none.
    case unsigned
    /// The artifact was signed by a key that is not pinned on this device.
    case unknownSigningKey(keyID: String, pinned: [String])
    /// The signature does not verify with the pinned key of that id.
    case badSignature(keyID: String)
    /// A key (raw bytes or PEM) could not be imported.
    case invalidKey(detail: String)

    // Files and transport
    case fileOperationFailed(path: String, operation: String, errno: Int32)
    case compressionFailed(detail: String)
    /// A transported (compressed or decompressed) file does not match what the sender declared.
    case transportMismatch(what: String, expected: String, actual: String)

    public var description: String {
        switch self {
        case .notAnArtifact(let found):
            return "not a Flotilla model artifact: the file starts with \(Hex.string(found)) instead of the artifact magic "
                + "\(Hex.string(ArtifactFormat.magic)); check that you passed the .flta file itself, decompressed"
        case .unsupportedVersion(let major, let minor, let supported):
            return "artifact format \(major).\(minor) is not supported by this reader (it reads major version \(supported)); "
                + "update Flotilla on this device, or rebuild the artifact with the coordinator's matching version"
        case .truncated(let expected, let actual):
            return "artifact is truncated: it needs \(expected) bytes but has \(actual); the download or copy was cut short, fetch it again"
        case .malformedLayout(let offset, let detail):
            return
                "artifact layout is malformed at byte \(offset): \(detail); the file is damaged or was not written by Flotilla, fetch it again"
        case .digestMismatch(let section, let offset):
            return
                "SHA-256 of the \(section) (at byte \(offset)) does not match the digest in the section table: the file was altered or corrupted; discard it and download it again"
        case .missingSection(let kind):
            return "artifact has no \(kind) section, which every artifact needs; rebuild it with `flotilla` (the writer always emits it)"
        case .duplicateSection(let kind):
            return "artifact has more than one \(kind) section; the file is damaged or hand-made, rebuild it"
        case .malformedJSON(let section, let offset, let detail):
            return "\(section) section is not valid canonical JSON at byte \(offset) of the section: \(detail); rebuild the artifact"
        case .invalidContent(let section, let path, let detail):
            return "\(section) section, at \(path): \(detail); rebuild the artifact with a matching Flotilla version"
        case .unsupportedModel(let path, let detail):
            return "cannot write the model into an artifact: at \(path), \(detail)"
        case .manifestMismatch(let field, let detail):
            return
                "manifest field '\(field)' disagrees with the graph: \(detail); rebuild the artifact (the writer derives this field from the model)"
        case .unsigned:
            return
                "artifact is not signed, and this reader requires a signature from a pinned key; sign it on the coordinator (ArtifactWriter with a signing key) or, for local development only, open it with trust .skipSignatureCheck"
        case .unknownSigningKey(let keyID, let pinned):
            return "artifact is signed by key \(keyID), which is not among the pinned keys [\(pinned.joined(separator: ", "))]; "
                + "pin that key's public half on this device if it is a legitimate rotation, otherwise reject the artifact"
        case .badSignature(let keyID):
            return
                "artifact signature by key \(keyID) does not verify: the header or section table was altered after signing, or the signature was forged; discard the file"
        case .invalidKey(let detail):
            return "invalid Ed25519 key: \(detail)"
        case .fileOperationFailed(let path, let operation, let code):
            return "cannot \(operation) '\(path)': \(PosixErrors.text(code)) (errno \(code)); check the path, permissions and free space"
        case .compressionFailed(let detail):
            return "artifact compression failed: \(detail)"
        case .transportMismatch(let what, let expected, let actual):
            return
                "transported artifact does not match its announcement: \(what) is \(actual), expected \(expected); discard it and download again"
        }
    }
}

/// Lower-case hex, used by errors and key ids.
enum Hex {
    static func string<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func bytes(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
