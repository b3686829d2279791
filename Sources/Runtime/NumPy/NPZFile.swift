public import Foundation
public import ModelIR

/// NumPy `.npz` archives (a zip of `.npy` members): stored members (`np.savez`) and deflated
/// ones (`np.savez_compressed`, through the Swift `Inflate`, since Foundation on Linux has no
/// zlib), each checked against its CRC-32. Writing produces stored archives.
public enum NPZFile {
    public static func read(_ url: URL) throws -> [String: Tensor] {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw RuntimeError.npy(path: url.path, detail: "cannot read the file: \(error.localizedDescription)")
        }
        return try decode([UInt8](data), path: url.path)
    }

    public static func write(_ tensors: [String: Tensor], to url: URL) throws {
        let bytes = try encode(tensors, path: url.path)
        do {
            try Data(bytes).write(to: url)
        } catch {
            throw RuntimeError.npy(path: url.path, detail: "cannot write the file: \(error.localizedDescription)")
        }
    }

    /// Members by array name (the member file name without ".npy").
    public static func decode(_ b: [UInt8], path: String = "<memory>") throws -> [String: Tensor] {
        func fail(_ d: String) -> RuntimeError { .npy(path: path, detail: d) }
        func u16(_ o: Int) throws -> Int {
            guard o >= 0, o + 2 <= b.count else { throw fail("truncated zip structure at offset \(o)") }
            return Int(b[o]) | Int(b[o + 1]) << 8
        }
        func u32(_ o: Int) throws -> Int {
            let lo = try u16(o), hi = try u16(o + 2)
            return lo | hi << 16
        }
        // The end-of-central-directory record is in the last 64 KiB + 22 bytes.
        var eocd = -1
        var i = b.count - 22
        while i >= max(0, b.count - 65557) {
            if b[i] == 0x50, b[i + 1] == 0x4B, b[i + 2] == 0x05, b[i + 3] == 0x06 {
                eocd = i
                break
            }
            i -= 1
        }
        guard eocd >= 0 else { throw fail("not a zip archive (no end-of-central-directory record)") }
        let entries = try u16(eocd + 10)
        var at = try u32(eocd + 16)
        var result: [String: Tensor] = [:]
        for _ in 0..<entries {
            guard try u32(at) == 0x0201_4B50 else { throw fail("corrupt central directory at offset \(at)") }
            let method = try u16(at + 10)
            let crc = try u32(at + 16)
            let compressed = try u32(at + 20)
            let uncompressed = try u32(at + 24)
            let nameLength = try u16(at + 28), extraLength = try u16(at + 30), commentLength = try u16(at + 32)
            let local = try u32(at + 42)
            guard at + 46 + nameLength <= b.count else { throw fail("truncated central directory") }
            let name = String(decoding: b[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
            at += 46 + nameLength + extraLength + commentLength
            guard compressed != 0xFFFF_FFFF, uncompressed != 0xFFFF_FFFF, local != 0xFFFF_FFFF else {
                throw fail("member '\(name)' uses zip64, which is not supported (arrays over 4 GiB)")
            }
            guard method == 0 || method == 8 else {
                throw fail("member '\(name)' uses compression method \(method); only stored and deflate members are supported")
            }
            guard uncompressed <= GraphPlanner.maxValueBytes else { throw fail("member '\(name)' declares \(uncompressed) bytes") }
            guard try u32(local) == 0x0403_4B50 else { throw fail("corrupt local header for '\(name)'") }
            let localName = try u16(local + 26), localExtra = try u16(local + 28)
            let start = local + 30 + localName + localExtra
            guard start + compressed <= b.count else { throw fail("member '\(name)' runs past the end of the archive") }
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            var member = Array(b[start..<(start + compressed)])
            if method == 8 {
                do {
                    member = try Inflate.decompress(member, expectedSize: uncompressed)
                } catch {
                    throw fail("member '\(name)' cannot be decompressed: \(error)")
                }
            }
            guard CRC32.checksum(member) == crc else { throw fail("member '\(name)' fails its CRC-32 check (corrupt archive)") }
            result[key] = try NPYFile.decode(member, path: "\(path)/\(name)")
        }
        return result
    }

    /// A stored zip of one `.npy` per tensor, names sorted.
    public static func encode(_ tensors: [String: Tensor], path: String = "<memory>") throws -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func le32(_ v: Int) -> [UInt8] { le16(v & 0xFFFF) + le16((v >> 16) & 0xFFFF) }
        for name in tensors.keys.sorted() {
            guard let t = tensors[name] else { continue }
            let member = try NPYFile.encode(t, path: path)
            guard member.count < 0xFFFF_FFFF, out.count < 0xFFFF_FFFF else {
                throw RuntimeError.npy(path: path, detail: "archives over 4 GiB (zip64) are not supported")
            }
            let file = Array("\(name).npy".utf8)
            let crc = CRC32.checksum(member)
            let offset = out.count
            let common =
                le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(crc) + le32(member.count) + le32(member.count)
                + le16(file.count) + le16(0)
            out += le32(0x0403_4B50) + common + file + member
            central += le32(0x0201_4B50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + file
        }
        let cdOffset = out.count
        out += central
        out +=
            le32(0x0605_4B50) + le16(0) + le16(0) + le16(tensors.count) + le16(tensors.count) + le32(central.count) + le32(cdOffset)
            + le16(0)
        return out
    }
}

/// CRC-32 (IEEE 802.3, the zip checksum).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> Int {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return Int(c ^ 0xFFFF_FFFF)
    }
}
