internal import Crypto

/// The fixed header of a binary chunk frame, 96 bytes, integers little-endian:
///
/// | offset | size | field |
/// |---|---|---|
/// | 0 | 4 | magic `FLCK` |
/// | 4 | 1 | major version (1) — a reader refuses another |
/// | 5 | 1 | minor version (0) |
/// | 6 | 2 | header length (96; a 1.x reader skips header bytes beyond the fields it knows) |
/// | 8 | 4 | chunk index |
/// | 12 | 4 | chunk count of the artifact |
/// | 16 | 8 | total size of the compressed artifact |
/// | 24 | 4 | payload length |
/// | 28 | 4 | reserved, 0 |
/// | 32 | 32 | artifact digest (SHA-256 of the uncompressed artifact, raw bytes) |
/// | 64 | 32 | SHA-256 of the payload |
/// | 96 | … | payload |
public struct ChunkHeader: Sendable, Hashable {
    public static let magic: [UInt8] = Array("FLCK".utf8)
    public static let majorVersion: UInt8 = 1
    public static let minorVersion: UInt8 = 0
    public static let encodedSize = 96

    public var index: Int
    public var count: Int
    public var totalSize: Int
    public var payloadLength: Int
    /// Hex, as everywhere else in the protocol.
    public var artifactDigest: String
    public var chunkSHA256: String

    public init(index: Int, count: Int, totalSize: Int, payloadLength: Int, artifactDigest: String, chunkSHA256: String) {
        self.index = index
        self.count = count
        self.totalSize = totalSize
        self.payloadLength = payloadLength
        self.artifactDigest = artifactDigest
        self.chunkSHA256 = chunkSHA256
    }
}

/// One chunk on the wire: header then payload.
public struct ChunkFrame: Sendable, Hashable {
    public var header: ChunkHeader
    public var payload: [UInt8]

    /// A frame for `payload` as chunk `index` of `plan`, its digest computed here.
    public init(plan: ChunkPlan, index: Int, payload: [UInt8]) {
        header = ChunkHeader(
            index: index, count: plan.chunkCount, totalSize: plan.totalSize, payloadLength: payload.count,
            artifactDigest: plan.artifactDigest, chunkSHA256: ChunkDigest.hex(payload))
        self.payload = payload
    }

    init(header: ChunkHeader, payload: [UInt8]) {
        self.header = header
        self.payload = payload
    }

    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ChunkHeader.encodedSize + payload.count)
        out += ChunkHeader.magic
        out += [ChunkHeader.majorVersion, ChunkHeader.minorVersion]
        LE.append(UInt16(ChunkHeader.encodedSize), to: &out)
        LE.append(UInt32(truncatingIfNeeded: header.index), to: &out)
        LE.append(UInt32(truncatingIfNeeded: header.count), to: &out)
        LE.append(UInt64(truncatingIfNeeded: header.totalSize), to: &out)
        LE.append(UInt32(truncatingIfNeeded: header.payloadLength), to: &out)
        LE.append(UInt32(0), to: &out)
        out += Hex.bytes(header.artifactDigest) ?? [UInt8](repeating: 0, count: 32)
        out += Hex.bytes(header.chunkSHA256) ?? [UInt8](repeating: 0, count: 32)
        out += payload
        return out
    }

    /// The chunk index of an encoded frame of the artifact whose raw SHA-256 is
    /// `artifactDigest`, read from the header without hashing the payload; nil when the bytes
    /// are not a frame of that artifact. For skipping duplicates cheaply, never for trusting a
    /// payload.
    static func peekIndex(_ bytes: [UInt8], artifactDigest: [UInt8]) -> Int? {
        guard bytes.count >= ChunkHeader.encodedSize, bytes[0..<4].elementsEqual(ChunkHeader.magic),
            bytes[4] == ChunkHeader.majorVersion, bytes[32..<64].elementsEqual(artifactDigest)
        else { return nil }
        return Int(LE.u32(bytes, 8))
    }

    /// Parses a frame and checks the payload against its own digest. Whether it belongs to a
    /// given download is the reassembler's question.
    public static func decode(_ bytes: [UInt8]) throws(ChunkError) -> ChunkFrame {
        let (header, payloadStart) = try decodeInPlace(bytes)
        return ChunkFrame(header: header, payload: Array(bytes[payloadStart...]))
    }

    /// `decode` without copying the payload out: it is `bytes[payloadStart...]`, already
    /// checked against the header's digest. The agent writes it to disk from there.
    static func decodeInPlace(_ bytes: [UInt8]) throws(ChunkError) -> (header: ChunkHeader, payloadStart: Int) {
        guard bytes.count >= 8, Array(bytes[0..<4]) == ChunkHeader.magic else {
            throw .malformedFrame(detail: "the frame does not start with the magic 'FLCK'")
        }
        guard bytes[4] == ChunkHeader.majorVersion else {
            throw .malformedFrame(detail: "frame major version \(bytes[4]) is not \(ChunkHeader.majorVersion); upgrade this agent")
        }
        let headerLength = Int(LE.u16(bytes, 6))
        guard headerLength >= ChunkHeader.encodedSize, headerLength <= bytes.count else {
            throw .malformedFrame(
                detail: "header length \(headerLength) with \(bytes.count) bytes in the frame (minimum \(ChunkHeader.encodedSize))")
        }
        guard LE.u32(bytes, 28) == 0 else { throw .malformedFrame(detail: "reserved field at offset 28 is not zero") }
        let index = Int(LE.u32(bytes, 8))
        let count = Int(LE.u32(bytes, 12))
        let total = LE.u64(bytes, 16)
        let length = Int(LE.u32(bytes, 24))
        guard total <= UInt64(Int.max) else { throw .malformedFrame(detail: "total size \(total) is out of range") }
        guard bytes.count - headerLength == length else {
            throw .malformedFrame(detail: "payload length \(length) but \(bytes.count - headerLength) bytes follow the header")
        }
        guard count > 0, index < count else { throw .malformedFrame(detail: "chunk index \(index) is not below the count \(count)") }
        let header = ChunkHeader(
            index: index, count: count, totalSize: Int(total), payloadLength: length, artifactDigest: Hex.string(Array(bytes[32..<64])),
            chunkSHA256: Hex.string(Array(bytes[64..<96])))
        let actual = ChunkDigest.hex(bytes[headerLength...])
        guard actual == header.chunkSHA256 else {
            throw .chunkDigestMismatch(index: index, expected: header.chunkSHA256, actual: actual)
        }
        return (header, headerLength)
    }
}

/// Little-endian integer coding for the frame header.
enum LE {
    static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    static func u16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
    static func u32(_ b: [UInt8], _ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * UInt32($1)) } }
    static func u64(_ b: [UInt8], _ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * UInt64($1)) } }
}

/// Lower-case hex, the protocol's spelling of digests.
enum Hex {
    static func string(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func bytes(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = nibble(utf8[i]), let lo = nibble(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

/// SHA-256 as lower-case hex: the one place the module hashes.
enum ChunkDigest {
    static func hex(_ bytes: [UInt8]) -> String { hex(bytes[...]) }
    static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        var hasher = SHA256()
        bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        return Hex.string(Array(hasher.finalize()))
    }
}
