/// Constants of the artifact file format (docs/model-format.md is the byte-by-byte description;
/// keep the two in step).
public enum ArtifactFormat {
    /// PNG-style magic: a high byte catches 7-bit transfers, CR LF and the ^Z catch text-mode
    /// newline translation, so a mangled copy fails at byte 0 instead of deep in a section.
    public static let magic: [UInt8] = [0x89, 0x46, 0x4C, 0x54, 0x0D, 0x0A, 0x1A, 0x0A]  // \x89 F L T \r \n ^Z \n

    /// A reader refuses any other major version. Minor versions only add things an older reader
    /// may ignore (new section kinds, longer table entries, new JSON keys).
    public static let majorVersion = 1
    public static let minorVersion = 0

    /// Fixed header: 32 bytes of fields, then the SHA-256 of those 32 bytes and the table.
    static let headerSize = 64
    static let headerFieldsSize = 32
    /// Size of a section table entry this version writes; readers accept larger entries (a
    /// later minor version may append fields) and read the first 64 bytes.
    static let tableEntrySize = 64

    /// Tensor data (weights, validation tensors) starts on 64-byte boundaries: one cache line,
    /// and the widest SIMD load (AVX-512) can be aligned.
    public static let tensorAlignment = 64

    /// Bounds that keep a hostile file from making the reader allocate or recurse without limit.
    static let maxSections = 64
    static let maxSectionAlignment = 1 << 16
    static let maxJSONSectionBytes = 32 << 20
    /// Nesting of JSON containers, and of subgraphs within the graph section.
    static let maxJSONDepth = 128
    static let maxSubgraphDepth = 16
    static let maxRank = 64

    /// Domain separation for signatures: a signature over an artifact can never be replayed as
    /// a signature over some other Flotilla message that happens to hash the same bytes.
    static let signatureContext: [UInt8] = Array("flotilla-artifact-signature-v1".utf8) + [0]
    /// Signature section payload: algorithm (u32), reserved (u32), key id (8), signature (64).
    static let signatureSectionSize = 80
    static let signatureAlgorithmEd25519: UInt32 = 1
}

/// The kind of a section, as stored in the table.
public enum SectionKind: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case manifest = 1
    case graph = 2
    case weights = 3
    case validationIndex = 4
    case validationData = 5
    case signature = 6

    public var description: String {
        switch self {
        case .manifest: return "manifest"
        case .graph: return "graph"
        case .weights: return "weights"
        case .validationIndex: return "validation index"
        case .validationData: return "validation data"
        case .signature: return "signature"
        }
    }

    /// Alignment the writer uses for the section's start.
    var alignment: Int {
        switch self {
        case .weights, .validationData: return ArtifactFormat.tensorAlignment
        default: return 8
        }
    }
}

/// `major.minor` of the artifact format.
public struct ArtifactFormatVersion: Sendable, Hashable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let current = ArtifactFormatVersion(major: ArtifactFormat.majorVersion, minor: ArtifactFormat.minorVersion)

    public var description: String { "\(major).\(minor)" }
}
