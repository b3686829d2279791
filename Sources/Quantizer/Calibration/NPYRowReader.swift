import Foundation
import ModelIR
import Runtime

/// Reads rows (slices along axis 0) of one `.npy` array stored at `offset` in a file — a
/// plain `.npy`, or a stored member of an `.npz` — without reading the rest of the file.
/// Only the header is parsed here; each slice is decoded by `NPYFile.decode` from a
/// synthesized header plus the slice's bytes, so dtype handling stays in one place.
struct NPYRowReader {
    let url: URL
    let label: String
    let descr: String
    let shape: [Int]
    let itemSize: Int
    let dataOffset: UInt64

    var rows: Int { shape.first ?? 1 }
    var rowShape: [Int] { Array(shape.dropFirst()) }
    var rowBytes: Int { rowShape.reduce(1, *) * itemSize }

    init(url: URL, offset: UInt64 = 0, label: String) throws {
        func fail(_ d: String) -> QuantizerError { .calibrationData(path: label, detail: d) }
        self.url = url
        self.label = label
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw fail("cannot open: \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        let prefix = try Self.read(handle, at: offset, count: 12, label: label)
        guard prefix.count >= 10, prefix[0] == 0x93, Array(prefix[1..<6]) == Array("NUMPY".utf8) else {
            throw fail("not a .npy array (missing the \\x93NUMPY magic)")
        }
        let v1 = prefix[6] == 1
        let headerLength =
            v1
            ? Int(prefix[8]) | Int(prefix[9]) << 8
            : Int(prefix[8]) | Int(prefix[9]) << 8 | Int(prefix[10]) << 16 | Int(prefix[11]) << 24
        let headerStart = v1 ? 10 : 12
        let header = String(
            decoding: try Self.read(handle, at: offset + UInt64(headerStart), count: headerLength, label: label), as: UTF8.self)
        dataOffset = offset + UInt64(headerStart + headerLength)
        guard let d = Self.field(header, "descr"), let q = d.first, q == "'" || q == "\"",
            let end = d.dropFirst().firstIndex(of: q)
        else { throw fail("the header has no 'descr'") }
        descr = String(d[d.index(after: d.startIndex)..<end])
        guard let f = Self.field(header, "fortran_order") else { throw fail("the header has no 'fortran_order'") }
        guard let s = Self.field(header, "shape"), s.first == "(", let close = s.firstIndex(of: ")") else {
            throw fail("the header has no 'shape'")
        }
        var dims: [Int] = []
        for part in s[s.index(after: s.startIndex)..<close].split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0 else { throw fail("shape entry '\(t)' is not a non-negative integer") }
            dims.append(v)
        }
        shape = dims
        if f.hasPrefix("True") && dims.filter({ $0 > 1 }).count > 1 {
            throw fail("Fortran-order arrays cannot be streamed by rows; save with np.ascontiguousarray")
        }
        guard let size = Int(descr.dropFirst(2)), size > 0, size <= 8 else {
            throw fail("dtype '\(descr)' is not a fixed-size numeric type")
        }
        itemSize = size
    }

    /// Rows `start ..< start + count` as a tensor of shape [count] + rowShape.
    func read(rows start: Int, count: Int) throws -> Tensor {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw QuantizerError.calibrationData(path: label, detail: "cannot open: \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        let bytes = try Self.read(handle, at: dataOffset + UInt64(start * rowBytes), count: count * rowBytes, label: label)
        let dims = ([count] + rowShape).map(String.init).joined(separator: ", ")
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(dims),), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        let n = header.utf8.count
        let npy: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8) + bytes
        do {
            return try NPYFile.decode(npy, path: label)
        } catch {
            throw QuantizerError.calibrationData(path: label, detail: "\(error)")
        }
    }

    static func read(_ handle: FileHandle, at offset: UInt64, count: Int, label: String) throws -> [UInt8] {
        do {
            try handle.seek(toOffset: offset)
            let data = try handle.read(upToCount: count) ?? Data()
            guard data.count == count else {
                throw QuantizerError.calibrationData(
                    path: label, detail: "truncated: wanted \(count) bytes at offset \(offset), got \(data.count)")
            }
            return [UInt8](data)
        } catch let e as QuantizerError {
            throw e
        } catch {
            throw QuantizerError.calibrationData(path: label, detail: "cannot read: \(error.localizedDescription)")
        }
    }

    static func field(_ h: String, _ key: String) -> Substring? {
        guard let r = h.range(of: "'\(key)'") ?? h.range(of: "\"\(key)\"") else { return nil }
        var rest = h[r.upperBound...].drop(while: { $0 == " " })
        guard rest.first == ":" else { return nil }
        rest = rest.dropFirst().drop(while: { $0 == " " })
        return rest
    }
}
