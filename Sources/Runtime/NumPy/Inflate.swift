/// DEFLATE decompression (RFC 1951), for `np.savez_compressed` archives: Foundation on Linux
/// has no zlib API. A canonical-Huffman decoder in the style of zlib's `puff.c`: small and
/// bounds-checked rather than fast (npz members are read once). Every read is checked, the
/// output is capped at the size the zip header declares, and malformed data throws.
enum Inflate {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private struct Bits {
        let data: [UInt8]
        var pos = 0
        var buffer = 0
        var count = 0

        mutating func take(_ n: Int) throws -> Int {
            while count < n {
                guard pos < data.count else { throw Failure(description: "compressed data ends early") }
                buffer |= Int(data[pos]) << count
                pos += 1
                count += 8
            }
            let v = buffer & ((1 << n) - 1)
            buffer >>= n
            count -= n
            return v
        }

        mutating func alignToByte() {
            buffer = 0
            count = 0
        }
    }

    /// Canonical Huffman code: symbol count per length and symbols ordered by code.
    private struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int] = []

        init(lengths: [Int]) throws {
            for l in lengths { counts[l] += 1 }
            counts[0] = 0
            var left = 1
            for len in 1...15 {
                left = left * 2 - counts[len]
                guard left >= 0 else { throw Failure(description: "over-subscribed Huffman code") }
            }
            var offsets = [Int](repeating: 0, count: 16)
            for len in 1..<15 { offsets[len + 1] = offsets[len] + counts[len] }
            symbols = [Int](repeating: 0, count: lengths.count)
            for (s, l) in lengths.enumerated() where l != 0 {
                symbols[offsets[l]] = s
                offsets[l] += 1
            }
        }

        func decode(_ bits: inout Bits) throws -> Int {
            var code = 0, first = 0, index = 0
            for len in 1...15 {
                code |= try bits.take(1)
                let count = counts[len]
                if code - count < first { return symbols[index + (code - first)] }
                index += count
                first = (first + count) << 1
                code <<= 1
            }
            throw Failure(description: "invalid Huffman code")
        }
    }

    private static let lengthBase = [
        3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
    ]
    private static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    private static let distBase = [
        1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073,
        4097, 6145, 8193, 12289, 16385, 24577,
    ]
    private static let distExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    /// Decompresses a raw DEFLATE stream that must produce exactly `expectedSize` bytes.
    static func decompress(_ data: [UInt8], expectedSize: Int) throws -> [UInt8] {
        var bits = Bits(data: data)
        var out: [UInt8] = []
        out.reserveCapacity(expectedSize)
        var last = false
        while !last {
            last = try bits.take(1) == 1
            switch try bits.take(2) {
            case 0:
                bits.alignToByte()
                guard bits.pos + 4 <= data.count else { throw Failure(description: "stored block header ends early") }
                let len = Int(data[bits.pos]) | Int(data[bits.pos + 1]) << 8
                let nlen = Int(data[bits.pos + 2]) | Int(data[bits.pos + 3]) << 8
                guard len == (~nlen & 0xFFFF) else { throw Failure(description: "stored block length check failed") }
                bits.pos += 4
                guard bits.pos + len <= data.count, out.count + len <= expectedSize else {
                    throw Failure(description: "stored block runs past the data or the declared size")
                }
                out += data[bits.pos..<(bits.pos + len)]
                bits.pos += len
            case 1:
                let lit = try Huffman(lengths: (0..<288).map { $0 < 144 ? 8 : $0 < 256 ? 9 : $0 < 280 ? 7 : 8 })
                let dist = try Huffman(lengths: [Int](repeating: 5, count: 30))
                try codes(&bits, &out, lit, dist, expectedSize)
            case 2:
                let nlen = try bits.take(5) + 257, ndist = try bits.take(5) + 1, ncode = try bits.take(4) + 4
                guard nlen <= 286, ndist <= 30 else { throw Failure(description: "bad dynamic block counts") }
                var lengths = [Int](repeating: 0, count: 19)
                for i in 0..<ncode { lengths[codeLengthOrder[i]] = try bits.take(3) }
                let lencode = try Huffman(lengths: lengths)
                var all: [Int] = []
                while all.count < nlen + ndist {
                    let sym = try lencode.decode(&bits)
                    switch sym {
                    case 0..<16: all.append(sym)
                    case 16:
                        guard let prev = all.last else { throw Failure(description: "repeat with no previous length") }
                        all += [Int](repeating: prev, count: 3 + (try bits.take(2)))
                    case 17: all += [Int](repeating: 0, count: 3 + (try bits.take(3)))
                    default: all += [Int](repeating: 0, count: 11 + (try bits.take(7)))
                    }
                }
                guard all.count == nlen + ndist, all[256] != 0 else { throw Failure(description: "bad code lengths") }
                try codes(&bits, &out, try Huffman(lengths: Array(all[..<nlen])), try Huffman(lengths: Array(all[nlen...])), expectedSize)
            default:
                throw Failure(description: "invalid block type 3")
            }
        }
        guard out.count == expectedSize else {
            throw Failure(description: "decompressed \(out.count) bytes, the archive declares \(expectedSize)")
        }
        return out
    }

    private static func codes(_ bits: inout Bits, _ out: inout [UInt8], _ lit: Huffman, _ dist: Huffman, _ cap: Int) throws {
        while true {
            let sym = try lit.decode(&bits)
            if sym < 256 {
                guard out.count < cap else { throw Failure(description: "output exceeds the declared size") }
                out.append(UInt8(sym))
            } else if sym == 256 {
                return
            } else {
                let li = sym - 257
                guard li < 29 else { throw Failure(description: "invalid length symbol") }
                let len = lengthBase[li] + (try bits.take(lengthExtra[li]))
                let di = try dist.decode(&bits)
                guard di < 30 else { throw Failure(description: "invalid distance symbol") }
                let d = distBase[di] + (try bits.take(distExtra[di]))
                guard d <= out.count else { throw Failure(description: "distance reaches before the start") }
                guard out.count + len <= cap else { throw Failure(description: "output exceeds the declared size") }
                let start = out.count - d
                for k in 0..<len { out.append(out[start + k]) }
            }
        }
    }
}
