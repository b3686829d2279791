internal import Foundation

/// Which chunks of a download are stored: one bit per chunk, so progress for a 16 MiB artifact
/// in 256 KiB chunks persists as 8 bytes. Codable as `{"count": n, "bits": "<base64>"}`, bit
/// `i` being bit `i % 8` of byte `i / 8`.
public struct ChunkBitmap: Sendable, Hashable {
    public let count: Int
    private var bytes: [UInt8]
    public private(set) var setCount: Int = 0

    public init(count: Int) {
        self.count = max(count, 0)
        bytes = [UInt8](repeating: 0, count: (self.count + 7) / 8)
    }

    public func contains(_ index: Int) -> Bool {
        guard index >= 0, index < count else { return false }
        return bytes[index / 8] & (1 << UInt8(index % 8)) != 0
    }

    /// Sets bit `index`; returns false if it was already set or is out of range.
    @discardableResult
    public mutating func insert(_ index: Int) -> Bool {
        guard index >= 0, index < count, !contains(index) else { return false }
        bytes[index / 8] |= 1 << UInt8(index % 8)
        setCount += 1
        return true
    }

    public var isComplete: Bool { setCount == count }

    /// The missing indices as maximal runs, ascending: what a device re-requests.
    public var missingRanges: [ChunkRange] {
        var ranges: [ChunkRange] = []
        var start: Int?
        for i in 0..<count {
            if contains(i) {
                if let s = start { ranges.append(ChunkRange(first: s, count: i - s)) }
                start = nil
            } else if start == nil {
                start = i
            }
        }
        if let s = start { ranges.append(ChunkRange(first: s, count: count - s)) }
        return ranges
    }
}

extension ChunkBitmap: Codable {
    private enum CodingKeys: String, CodingKey { case count, bits }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let count = try c.decode(Int.self, forKey: .count)
        guard count >= 0, count <= ChunkPlan.maxChunkCount else {
            throw DecodingError.dataCorruptedError(forKey: .count, in: c, debugDescription: "chunk count \(count) out of range")
        }
        guard let data = Data(base64Encoded: try c.decode(String.self, forKey: .bits)), data.count == (count + 7) / 8 else {
            throw DecodingError.dataCorruptedError(forKey: .bits, in: c, debugDescription: "not base64 of \((count + 7) / 8) bytes")
        }
        self.init(count: count)
        bytes = Array(data)
        if count % 8 != 0, let last = bytes.last, last >> UInt8(count % 8) != 0 {
            throw DecodingError.dataCorruptedError(forKey: .bits, in: c, debugDescription: "bits set beyond the chunk count")
        }
        setCount = bytes.reduce(0) { $0 + $1.nonzeroBitCount }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(count, forKey: .count)
        try c.encode(Data(bytes).base64EncodedString(), forKey: .bits)
    }
}

/// A run of chunk indices `first ..< first + count`.
public struct ChunkRange: Codable, Sendable, Hashable {
    public var first: Int
    public var count: Int

    public init(first: Int, count: Int) {
        self.first = first
        self.count = count
    }
}
