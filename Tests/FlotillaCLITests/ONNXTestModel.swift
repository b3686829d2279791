import Foundation

/// Hand-encoded ONNX protobuf for models the fixtures do not cover (an op from an unknown
/// domain), written field by field from onnx.proto so the test needs no Python.
enum ONNXTestModel {
    /// x[N, 4] → Relu → com.example:FancyOp → y[N, 4]: one node no importer or runtime knows.
    static func withUnknownOp() -> [UInt8] {
        let dims: [[UInt8]] = [string(2, "N"), varint(1, 4)]  // Dimension: dim_param "N", dim_value 4
        func valueInfo(_ name: String) -> [UInt8] {
            let shape = dims.reduce([UInt8]()) { $0 + field(1, $1) }
            let tensorType = varint(1, 1) + field(2, shape)  // elem_type FLOAT
            return string(1, name) + field(2, field(1, tensorType))
        }
        let relu = string(1, "x") + string(2, "h") + string(3, "relu") + string(4, "Relu")
        let fancy = string(1, "h") + string(2, "y") + string(3, "fancy") + string(4, "FancyOp") + string(7, "com.example")
        let graph = field(1, relu) + field(1, fancy) + string(2, "g") + field(11, valueInfo("x")) + field(12, valueInfo("y"))
        return varint(1, 8) + string(2, "flotilla-cli-tests") + field(7, graph)
            + field(8, string(1, "") + varint(2, 13)) + field(8, string(1, "com.example") + varint(2, 1))
    }

    private static func encodeVarint(_ v: UInt64) -> [UInt8] {
        var v = v
        var out: [UInt8] = []
        repeat {
            let b = UInt8(v & 0x7F)
            v >>= 7
            out.append(v == 0 ? b : b | 0x80)
        } while v != 0
        return out
    }

    private static func varint(_ number: UInt64, _ value: UInt64) -> [UInt8] { encodeVarint(number << 3) + encodeVarint(value) }
    private static func field(_ number: UInt64, _ bytes: [UInt8]) -> [UInt8] {
        encodeVarint(number << 3 | 2) + encodeVarint(UInt64(bytes.count)) + bytes
    }
    private static func string(_ number: UInt64, _ s: String) -> [UInt8] { field(number, Array(s.utf8)) }
}
