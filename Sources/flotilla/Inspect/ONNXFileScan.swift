import Foundation

/// What `inspect` reads straight from the ONNX protobuf rather than from the imported ModelIR:
/// the IR version (ModelIR does not keep it) and the main graph's nodes *as written in the
/// file* — the importer rewrites nodes to the canonical opset (an opset-11 Softmax becomes
/// Flatten/Softmax/Reshape, Upsample becomes Resize), and an op histogram should describe the
/// file the user has, as Netron or `onnx` would.
///
/// A deliberately tiny wire-format walk: top-level fields, `graph`, and each node's `op_type`
/// and `domain`. Every length is bounds-checked; a malformed file yields `nil` fields, never a
/// crash (the importer has already given the real error for truly broken files).
struct ONNXFileScan {
    struct NodeOp: Hashable {
        var opType: String
        var domain: String
    }

    var irVersion: Int?
    var modelVersion: Int?
    var domain: String?
    var nodes: [NodeOp] = []

    init(_ data: Data) {
        let bytes = [UInt8](data)
        var reader = WireReader(bytes, 0..<bytes.count)
        while let field = reader.next() {
            switch (field.number, field.payload) {
            case (1, .varint(let v)): irVersion = Int(clamping: v)
            case (4, .bytes(let r)): domain = String(decoding: bytes[r], as: UTF8.self)
            case (5, .varint(let v)): modelVersion = Int(clamping: v)
            case (7, .bytes(let r)): nodes = Self.nodes(inGraph: bytes, r)
            default: break
            }
        }
    }

    /// NodeProto is GraphProto field 1; within it op_type is field 4 and domain field 7.
    private static func nodes(inGraph bytes: [UInt8], _ range: Range<Int>) -> [NodeOp] {
        var graph = WireReader(bytes, range)
        var result: [NodeOp] = []
        while let field = graph.next() {
            guard field.number == 1, case .bytes(let nodeRange) = field.payload else { continue }
            var node = WireReader(bytes, nodeRange)
            var op = NodeOp(opType: "", domain: "")
            while let f = node.next() {
                guard case .bytes(let r) = f.payload else { continue }
                if f.number == 4 { op.opType = String(decoding: bytes[r], as: UTF8.self) }
                if f.number == 7 { op.domain = String(decoding: bytes[r], as: UTF8.self) }
            }
            if op.domain == "ai.onnx" { op.domain = "" }
            result.append(op)
        }
        return result
    }
}

/// Reads protobuf fields (tag, wire type, payload) from a byte range. Stops at the first
/// malformed field instead of guessing.
struct WireReader {
    enum Payload {
        case varint(UInt64)
        case bytes(Range<Int>)
        case fixed
    }

    struct Field {
        var number: UInt64
        var payload: Payload
    }

    private let bytes: [UInt8]
    private var position: Int
    private let end: Int

    init(_ bytes: [UInt8], _ range: Range<Int>) {
        self.bytes = bytes
        position = max(0, range.lowerBound)
        end = min(bytes.count, range.upperBound)
    }

    mutating func next() -> Field? {
        guard position < end, let tag = varint() else { return nil }
        let number = tag >> 3
        switch tag & 7 {
        case 0:
            guard let v = varint() else { return nil }
            return Field(number: number, payload: .varint(v))
        case 1: return skip(8) ? Field(number: number, payload: .fixed) : nil
        case 5: return skip(4) ? Field(number: number, payload: .fixed) : nil
        case 2:
            guard let length = varint(), length <= UInt64(end - position) else { return nil }
            let start = position
            position += Int(length)
            return Field(number: number, payload: .bytes(start..<position))
        default: return nil
        }
    }

    private mutating func skip(_ n: Int) -> Bool {
        guard end - position >= n else { return false }
        position += n
        return true
    }

    private mutating func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < end, shift < 64 {
            let b = bytes[position]
            position += 1
            value |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }
}
