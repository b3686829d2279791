import Foundation

/// A minimal, independent .npy reader and writer for the tests (little-endian float32/float64/
/// int64, C order), so checks on `flotilla run`'s output do not rely on the runtime's own
/// NPY code.
struct NPYTestFile {
    var descr: String
    var shape: [Int]
    var payload: [UInt8]

    enum Failure: Error { case malformed(String) }

    init(descr: String, shape: [Int], payload: [UInt8]) {
        self.descr = descr
        self.shape = shape
        self.payload = payload
    }

    init(contentsOf url: URL) throws {
        let bytes = [UInt8](try Data(contentsOf: url))
        guard bytes.count >= 10, bytes[0] == 0x93, bytes[6] == 1 else { throw Failure.malformed("not a v1 .npy: \(url.path)") }
        let length = Int(bytes[8]) | Int(bytes[9]) << 8
        guard bytes.count >= 10 + length else { throw Failure.malformed("truncated header") }
        let header = String(decoding: bytes[10..<(10 + length)], as: UTF8.self)
        guard let d = header.range(of: "'descr': '"), let dEnd = header[d.upperBound...].firstIndex(of: "'"),
            let s = header.range(of: "'shape': ("), let sEnd = header[s.upperBound...].firstIndex(of: ")")
        else { throw Failure.malformed("header \(header)") }
        descr = String(header[d.upperBound..<dEnd])
        shape = header[s.upperBound..<sEnd].split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        payload = Array(bytes[(10 + length)...])
    }

    static func float32(_ values: [Float], shape: [Int]) -> NPYTestFile {
        NPYTestFile(descr: "<f4", shape: shape, payload: values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
    }

    static func float64(_ values: [Double], shape: [Int]) -> NPYTestFile {
        NPYTestFile(descr: "<f8", shape: shape, payload: values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
    }

    var floats: [Float] {
        stride(from: 0, to: payload.count - 3, by: 4).map { i in
            Float(
                bitPattern: UInt32(payload[i]) | UInt32(payload[i + 1]) << 8 | UInt32(payload[i + 2]) << 16 | UInt32(payload[i + 3]) << 24)
        }
    }

    var int64s: [Int64] {
        stride(from: 0, to: payload.count - 7, by: 8).map { i in
            var v: UInt64 = 0
            for k in 0..<8 { v |= UInt64(payload[i + k]) << (8 * UInt64(k)) }
            return Int64(bitPattern: v)
        }
    }

    func write(to url: URL) throws {
        let dims = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(dims), }"
        header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        let n = header.utf8.count
        let bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(n & 0xFF), UInt8(n >> 8)] + Array(header.utf8) + payload
        try Data(bytes).write(to: url)
    }
}
