/// Typed construction and read access. Reads copy into a Swift array (unaligned loads), which
/// is what passes and tests want; kernels use `withUnsafeBytes`.
extension Tensor {
    public init(floats: [Float], shape: [Int]) throws {
        try self.init(elementType: .float32, shape: shape, bytes: Tensor.encode(floats))
    }
    public init(doubles: [Double], shape: [Int]) throws {
        try self.init(elementType: .float64, shape: shape, bytes: Tensor.encode(doubles))
    }
    public init(int64s: [Int64], shape: [Int]) throws {
        try self.init(elementType: .int64, shape: shape, bytes: Tensor.encode(int64s))
    }
    public init(int32s: [Int32], shape: [Int]) throws {
        try self.init(elementType: .int32, shape: shape, bytes: Tensor.encode(int32s))
    }
    public init(int8s: [Int8], shape: [Int]) throws {
        try self.init(elementType: .int8, shape: shape, bytes: Tensor.encode(int8s))
    }
    public init(uint8s: [UInt8], shape: [Int]) throws {
        try self.init(elementType: .uint8, shape: shape, bytes: uint8s)
    }
    public init(bools: [Bool], shape: [Int]) throws {
        try self.init(elementType: .bool, shape: shape, bytes: bools.map { $0 ? 1 : 0 })
    }

    /// Scalar (rank-0) tensors, the common case for folded shape arithmetic and attributes.
    public static func scalar(_ v: Float) -> Tensor { Tensor(trusted: .float32, [], encode([v])) }
    public static func scalar(_ v: Int64) -> Tensor { Tensor(trusted: .int64, [], encode([v])) }
    /// A 1-D int64 tensor (shape vectors, axes).
    public static func vector(_ v: [Int64]) -> Tensor { Tensor(trusted: .int64, [v.count], encode(v)) }
    public static func vector(_ v: [Float]) -> Tensor { Tensor(trusted: .float32, [v.count], encode(v)) }

    /// For values built internally whose byte count is right by construction.
    init(trusted elementType: ElementType, _ shape: [Int], _ bytes: [UInt8]) {
        self.elementType = elementType
        self.shape = shape
        self.storage = TensorStorage(bytes: bytes)
        self.strings = []
    }

    public var floats: [Float]? { elementType == .float32 ? decode(Float.self) : nil }
    public var doubles: [Double]? { elementType == .float64 ? decode(Double.self) : nil }
    public var int64s: [Int64]? { elementType == .int64 ? decode(Int64.self) : nil }
    public var int32s: [Int32]? { elementType == .int32 ? decode(Int32.self) : nil }
    public var int8s: [Int8]? { elementType == .int8 ? decode(Int8.self) : nil }
    public var uint8s: [UInt8]? { elementType == .uint8 ? bytes : nil }
    public var bools: [Bool]? { elementType == .bool ? bytes.map { $0 != 0 } : nil }

    /// Any integer or bool tensor widened to Int64 (uint64 values above Int64.max wrap);
    /// `nil` for float and string tensors.
    public var asInt64s: [Int64]? {
        switch elementType {
        case .int64: return decode(Int64.self)
        case .int32: return decode(Int32.self).map(Int64.init)
        case .int16: return decode(Int16.self).map(Int64.init)
        case .int8: return decode(Int8.self).map(Int64.init)
        case .uint8, .bool: return bytes.map(Int64.init)
        case .uint16: return decode(UInt16.self).map(Int64.init)
        case .uint32: return decode(UInt32.self).map(Int64.init)
        case .uint64: return decode(UInt64.self).map { Int64(truncatingIfNeeded: $0) }
        default: return nil
        }
    }

    /// Any numeric tensor as Double (float16 is decoded too, although the IR stores float32).
    public var asDoubles: [Double]? {
        switch elementType {
        case .float32: return decode(Float.self).map(Double.init)
        case .float64: return decode(Double.self)
        case .float16: return decode(UInt16.self).map { Double(Tensor.float16ToFloat($0)) }
        case .string: return nil
        default: return asInt64s.map { $0.map(Double.init) }
        }
    }

    /// Reads `T`-sized little-endian elements (this project targets little-endian hosts only).
    func decode<T: BitwiseCopyable>(_: T.Type) -> [T] {
        withUnsafeBytes { raw in
            let n = raw.count / MemoryLayout<T>.size
            return (0..<n).map { raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) }
        }
    }

    static func encode<T: BitwiseCopyable>(_ values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    /// IEEE 754 half → single, exact for every input including subnormals, inf and NaN.
    public static func float16ToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exp = Int((h >> 10) & 0x1F)
        var mant = UInt32(h & 0x3FF)
        if exp == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13)) }
        if exp == 0 {
            if mant == 0 { return Float(bitPattern: sign) }
            var e = -14
            while mant & 0x400 == 0 {
                mant <<= 1
                e -= 1
            }
            mant &= 0x3FF
            return Float(bitPattern: sign | UInt32(e + 127) << 23 | (mant << 13))
        }
        return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
    }
}
