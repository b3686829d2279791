import ModelIR

/// An ONNX `TensorProto.DataType`, named as the index and ONNX's Python enum spell it in lower
/// case ("float", "double", "float16", "float8e4m3fn"...). Covers every type ONNX 1.23 defines,
/// so a test can say exactly which type it skipped.
struct ONNXType: Hashable, Sendable, CustomStringConvertible {
    let code: Int

    init(code: Int) { self.code = code }

    static let float = ONNXType(code: 1), uint8 = ONNXType(code: 2), int8 = ONNXType(code: 3)
    static let uint16 = ONNXType(code: 4), int16 = ONNXType(code: 5), int32 = ONNXType(code: 6)
    static let int64 = ONNXType(code: 7), string = ONNXType(code: 8), bool = ONNXType(code: 9)
    static let float16 = ONNXType(code: 10), double = ONNXType(code: 11), uint32 = ONNXType(code: 12)
    static let uint64 = ONNXType(code: 13), bfloat16 = ONNXType(code: 16)

    private static let names = [
        0: "undefined", 1: "float", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string",
        9: "bool", 10: "float16", 11: "double", 12: "uint32", 13: "uint64", 14: "complex64", 15: "complex128",
        16: "bfloat16", 17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2", 20: "float8e5m2fnuz", 21: "uint4",
        22: "int4", 23: "float4e2m1", 24: "float8e8m0", 25: "uint2", 26: "int2",
    ]

    var name: String { Self.names[code] ?? "dtype\(code)" }
    var description: String { name }

    /// The ModelIR element type of the same name, if ModelIR has one.
    var elementType: ElementType? {
        switch code {
        case 1: return .float32
        case 2: return .uint8
        case 3: return .int8
        case 4: return .uint16
        case 5: return .int16
        case 6: return .int32
        case 7: return .int64
        case 8: return .string
        case 9: return .bool
        case 10: return .float16
        case 11: return .float64
        case 12: return .uint32
        case 13: return .uint64
        default: return nil
        }
    }

    init(_ e: ElementType) {
        switch e {
        case .float32: code = 1
        case .uint8: code = 2
        case .int8: code = 3
        case .uint16: code = 4
        case .int16: code = 5
        case .int32: code = 6
        case .int64: code = 7
        case .string: code = 8
        case .bool: code = 9
        case .float16: code = 10
        case .float64: code = 11
        case .uint32: code = 12
        case .uint64: code = 13
        }
    }

    /// Bytes per element in the test data's layout; nil for string and sub-byte/complex types.
    var byteWidth: Int? {
        switch code {
        case 2, 3, 9: return 1
        case 4, 5, 10, 16: return 2
        case 1, 6, 12: return 4
        case 7, 11, 13: return 8
        default: return nil
        }
    }

    /// Types whose values the runtime cannot hold at all: ModelIR has no element type for them,
    /// or (string) the runtime never stores them. A test that feeds or expects one is skipped
    /// before it is imported.
    static func unrepresentable(_ name: String) -> Bool {
        guard let code = names.first(where: { $0.value == name })?.key else { return true }
        let t = ONNXType(code: code)
        return t.elementType == nil || t == .string
    }
}
