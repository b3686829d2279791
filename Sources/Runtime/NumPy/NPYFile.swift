public import Foundation
public import ModelIR

/// NumPy `.npy` files (format versions 1.0, 2.0, 3.0): C-order arrays of the numeric types and
/// bool, little- or big-endian (converted to little-endian on read). Fortran-order arrays of
/// rank ≥ 2 and object arrays (pickles) are rejected with a clear error.
public enum NPYFile {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    public static func read(_ url: URL) throws -> Tensor {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw RuntimeError.npy(path: url.path, detail: "cannot read the file: \(error.localizedDescription)")
        }
        return try decode([UInt8](data), path: url.path)
    }

    public static func write(_ tensor: Tensor, to url: URL) throws {
        let bytes = try encode(tensor, path: url.path)
        do {
            try Data(bytes).write(to: url)
        } catch {
            throw RuntimeError.npy(path: url.path, detail: "cannot write the file: \(error.localizedDescription)")
        }
    }

    /// Parses `.npy` bytes; `path` names the source in errors.
    public static func decode(_ bytes: [UInt8], path: String = "<memory>") throws -> Tensor {
        func fail(_ d: String) -> RuntimeError { .npy(path: path, detail: d) }
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw fail("not a .npy file (missing the \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw fail("format version \(major).\(bytes[7]) is not supported (1.0, 2.0, 3.0 are)")
        }
        guard headerStart + headerLength <= bytes.count else { throw fail("the header runs past the end of the file") }
        guard let header = String(bytes: bytes[headerStart..<(headerStart + headerLength)], encoding: major == 3 ? .utf8 : .isoLatin1)
        else {
            throw fail("the header is not text")
        }
        let fields = try parseHeader(header, fail)
        guard let (type, swap) = elementType(fields.descr) else {
            throw fail("dtype '\(fields.descr)' is not supported; use float32/64, int8/16/32/64, uint8/16/32/64 or bool (no objects)")
        }
        if fields.fortran && fields.shape.filter({ $0 > 1 }).count > 1 {
            throw fail("Fortran-order arrays are not supported; save with np.ascontiguousarray")
        }
        guard let count = Shape.checkedProduct(fields.shape), let size = type.byteSize,
            case let (total, overflow) = count.multipliedReportingOverflow(by: size), !overflow
        else { throw fail("shape \(fields.shape) is too large") }
        let start = headerStart + headerLength
        guard bytes.count - start >= total else {
            throw fail("shape \(fields.shape) of \(fields.descr) needs \(total) bytes of data, the file has \(bytes.count - start)")
        }
        var payload = Array(bytes[start..<(start + total)])
        if swap && size > 1 {
            for i in 0..<count { payload[(i * size)..<((i + 1) * size)].reverse() }
        }
        return try Tensor(elementType: type, shape: fields.shape, bytes: payload)
    }

    /// Serializes a tensor as a version 1.0 `.npy` (2.0 if the header needs it).
    public static func encode(_ tensor: Tensor, path: String = "<memory>") throws -> [UInt8] {
        guard let descr = descr(tensor.elementType) else {
            throw RuntimeError.npy(path: path, detail: "\(tensor.elementType) tensors cannot be written as .npy")
        }
        let shape = tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        let v1 = 10 + header.utf8.count + 1 <= 65535 + 10
        let prefix = v1 ? 10 : 12
        let padding = (64 - (prefix + header.utf8.count + 1) % 64) % 64
        header += String(repeating: " ", count: padding) + "\n"
        var out = magic + [v1 ? 1 : 2, 0]
        let n = header.utf8.count
        out += v1 ? [UInt8(n & 0xFF), UInt8(n >> 8)] : [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24)]
        out += Array(header.utf8)
        out += tensor.bytes
        return out
    }

    static func descr(_ t: ElementType) -> String? {
        switch t {
        case .float32: return "<f4"
        case .float64: return "<f8"
        case .float16: return "<f2"
        case .int8: return "|i1"
        case .uint8: return "|u1"
        case .int16: return "<i2"
        case .uint16: return "<u2"
        case .int32: return "<i4"
        case .uint32: return "<u4"
        case .int64: return "<i8"
        case .uint64: return "<u8"
        case .bool: return "|b1"
        case .string: return nil
        }
    }

    /// (type, needs byte swap) for a numpy dtype string.
    static func elementType(_ descr: String) -> (ElementType, Bool)? {
        guard let order = descr.first, "<>|=".contains(order) else { return nil }
        let code = String(descr.dropFirst())
        let table: [String: ElementType] = [
            "f4": .float32, "f8": .float64, "f2": .float16, "i1": .int8, "u1": .uint8, "i2": .int16, "u2": .uint16,
            "i4": .int32, "u4": .uint32, "i8": .int64, "u8": .uint64, "b1": .bool,
        ]
        guard let t = table[code] else { return nil }
        return (t, order == ">")
    }

    /// Reads 'descr', 'fortran_order' and 'shape' from the Python-literal header dictionary.
    static func parseHeader(_ h: String, _ fail: (String) -> RuntimeError) throws -> (descr: String, fortran: Bool, shape: [Int]) {
        func value(after key: String) -> Substring? {
            guard let r = h.range(of: "'\(key)'") ?? h.range(of: "\"\(key)\"") else { return nil }
            var rest = h[r.upperBound...].drop(while: { $0 == " " })
            guard rest.first == ":" else { return nil }
            rest = rest.dropFirst().drop(while: { $0 == " " })
            return rest
        }
        guard var d = value(after: "descr"), let q = d.first, q == "'" || q == "\"" else { throw fail("the header has no 'descr'") }
        d = d.dropFirst()
        guard let end = d.firstIndex(of: q) else { throw fail("malformed 'descr'") }
        let descr = String(d[..<end])
        guard let f = value(after: "fortran_order") else { throw fail("the header has no 'fortran_order'") }
        let fortran = f.hasPrefix("True")
        guard let s = value(after: "shape"), s.first == "(", let close = s.firstIndex(of: ")") else {
            throw fail("the header has no 'shape'")
        }
        let inner = s[s.index(after: s.startIndex)..<close]
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0 else { throw fail("shape entry '\(t)' is not a non-negative integer") }
            shape.append(v)
        }
        return (descr, fortran, shape)
    }
}
