import ModelIR

/// ONNX `TensorProto.DataType` numbers ↔ `ElementType`. The mapping lives here, not in
/// ModelIR, so the IR stays free of ONNX.
enum ONNXDataType {
    static let float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7, string = 8
    static let bool = 9, float16 = 10, double = 11, uint32 = 12, uint64 = 13, bfloat16 = 16

    static func elementType(_ code: Int) -> ElementType? {
        switch code {
        case float: return .float32
        case uint8: return .uint8
        case int8: return .int8
        case uint16: return .uint16
        case int16: return .int16
        case int32: return .int32
        case int64: return .int64
        case string: return .string
        case bool: return .bool
        case float16: return .float16
        case double: return .float64
        case uint32: return .uint32
        case uint64: return .uint64
        default: return nil
        }
    }

    static func name(_ code: Int) -> String {
        let names = [
            0: "undefined", 1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string",
            9: "bool", 10: "float16", 11: "double", 12: "uint32", 13: "uint64", 14: "complex64", 15: "complex128",
            16: "bfloat16", 17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2", 20: "float8e5m2fnuz", 21: "uint4",
            22: "int4", 23: "float4e2m1", 24: "float8e8m0", 25: "uint2", 26: "int2",
        ]
        return names[code] ?? "unknown"
    }
}
