public import ModelIR
import Runtime

/// The local inference endpoint's binary protocol (docs/agent.md, "Local inference socket").
/// Every frame is `u32 LE length` then that many bytes:
///
///     request  = u32 count, count × (u16 name length, name UTF-8, u32 npy length, .npy bytes)
///     response = u8 status 0, then the same tensor list     (outputs)
///              | u8 status 1, then a UTF-8 error message
public enum InferenceWire {
    /// Requests and responses above this are refused (a model input rarely approaches it).
    public static let maxFrameBytes = 64 << 20

    public enum WireError: Error, Sendable, Equatable, CustomStringConvertible {
        case malformed(detail: String)
        case tooLarge(bytes: Int)
        public var description: String {
            switch self {
            case .malformed(let d): return "malformed inference frame: \(d); send count, then (name, .npy) pairs as docs/agent.md describes"
            case .tooLarge(let n): return "inference frame of \(n) bytes exceeds the \(InferenceWire.maxFrameBytes)-byte limit"
            }
        }
    }

    public static func encodeTensors(_ tensors: [String: Tensor]) throws -> [UInt8] {
        var out: [UInt8] = []
        append32(&out, UInt32(tensors.count))
        for (name, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            let nameBytes = Array(name.utf8)
            let npy = try NPYFile.encode(tensor, path: name)
            out += [UInt8(nameBytes.count & 0xFF), UInt8(nameBytes.count >> 8)]
            out += nameBytes
            append32(&out, UInt32(npy.count))
            out += npy
        }
        return out
    }

    public static func decodeTensors(_ bytes: [UInt8]) throws -> [String: Tensor] {
        var at = 0
        func take(_ n: Int) throws(WireError) -> ArraySlice<UInt8> {
            guard n >= 0, at + n <= bytes.count else {
                throw .malformed(detail: "needs \(n) bytes at offset \(at), has \(bytes.count - at)")
            }
            defer { at += n }
            return bytes[at..<at + n]
        }
        let count = Int(read32(try take(4)))
        guard count <= 4096 else { throw WireError.malformed(detail: "\(count) tensors") }
        var tensors: [String: Tensor] = [:]
        for _ in 0..<count {
            let l = try take(2)
            let nameLength = Int(l[l.startIndex]) | Int(l[l.startIndex + 1]) << 8
            let name = String(decoding: try take(nameLength), as: UTF8.self)
            let npyLength = Int(read32(try take(4)))
            tensors[name] = try NPYFile.decode(Array(try take(npyLength)), path: name)
        }
        guard at == bytes.count else { throw WireError.malformed(detail: "\(bytes.count - at) trailing bytes") }
        return tensors
    }

    static func append32(_ out: inout [UInt8], _ v: UInt32) {
        out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
    }

    static func read32(_ b: ArraySlice<UInt8>) -> UInt32 {
        let s = b.startIndex
        return UInt32(b[s]) | UInt32(b[s + 1]) << 8 | UInt32(b[s + 2]) << 16 | UInt32(b[s + 3]) << 24
    }
}
