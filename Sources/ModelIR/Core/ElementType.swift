/// The element type of a tensor: the full ONNX set, so the importer can say precisely which
/// types a model uses even when Flotilla does not run them. The mapping to ONNX's
/// `TensorProto.DataType` numbers lives in the importer, not here.
public enum ElementType: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case float32, float16, float64
    case int8, uint8, int16, uint16, int32, uint32, int64, uint64
    case bool
    case string

    /// Bytes per element in the little-endian contiguous layout; `nil` for `string`, which has
    /// no fixed-size representation.
    public var byteSize: Int? {
        switch self {
        case .int8, .uint8, .bool: return 1
        case .float16, .int16, .uint16: return 2
        case .float32, .int32, .uint32: return 4
        case .float64, .int64, .uint64: return 8
        case .string: return nil
        }
    }

    public var isFloatingPoint: Bool { self == .float32 || self == .float16 || self == .float64 }

    public var isInteger: Bool {
        switch self {
        case .int8, .uint8, .int16, .uint16, .int32, .uint32, .int64, .uint64: return true
        default: return false
        }
    }

    public var isSignedInteger: Bool {
        switch self {
        case .int8, .int16, .int32, .int64: return true
        default: return false
        }
    }

    /// The representable integer range of a quantized storage type (int8/uint8/int16/uint16/
    /// int32); `nil` for types that cannot hold a zero point.
    public var quantizedRange: ClosedRange<Int64>? {
        switch self {
        case .int8: return -128...127
        case .uint8: return 0...255
        case .int16: return -32768...32767
        case .uint16: return 0...65535
        case .int32: return Int64(Int32.min)...Int64(Int32.max)
        default: return nil
        }
    }

    public var description: String { rawValue }
}
