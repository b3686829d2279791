import Foundation
import ModelIR
import ONNXProto

/// A tensor read from a test data set's `input_<j>.pb` / `output_<j>.pb`: its ONNX data type,
/// shape and little-endian bytes in the type's natural width (float16 stays 2 bytes, unlike the
/// importer, which widens constants to float32).
///
/// The importer's own TensorProto reader is internal to ONNXImport; this one is separate on
/// purpose so a bug in either shows up as a disagreement instead of cancelling out.
struct StoredTensor {
    var dataType: ONNXType
    var shape: [Int]
    var bytes: [UInt8]
    var strings: [String] = []

    var elementCount: Int { Shape.checkedProduct(shape) ?? 0 }

    /// Reads a serialized TensorProto from `url`.
    init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ConformanceError.data(path: url.path, detail: "cannot read: \(error.localizedDescription)")
        }
        let proto: Onnx_TensorProto
        do {
            proto = try Onnx_TensorProto(serializedBytes: data)
        } catch {
            throw ConformanceError.data(
                path: url.path, detail: "not a TensorProto (\(error)); regenerate the data with scripts/make-onnx-node-tests.py --force")
        }
        try self.init(proto, path: url.path)
    }

    init(_ p: Onnx_TensorProto, path: String) throws {
        func bad(_ detail: String) -> ConformanceError { .data(path: path, detail: detail) }
        dataType = ONNXType(code: Int(p.dataType))
        guard p.dims.allSatisfy({ $0 >= 0 && $0 <= Int64(Int32.max) }) else { throw bad("dims \(p.dims) are out of range") }
        let dims = p.dims.map { Int($0) }
        shape = dims
        guard let count = Shape.checkedProduct(dims) else { throw bad("dims \(dims) overflow") }
        if dataType == .string {
            guard p.stringData.count == count else { throw bad("\(p.stringData.count) strings for dims \(shape)") }
            strings = p.stringData.map { String(decoding: $0, as: UTF8.self) }
            bytes = []
            return
        }
        guard let width = dataType.byteWidth else {
            throw bad("data type \(dataType.name) has no fixed-width layout this test can read")
        }
        if p.hasRawData {
            guard p.rawData.count == count * width else {
                throw bad("raw_data has \(p.rawData.count) bytes; dims \(shape) of \(dataType.name) need \(count * width)")
            }
            bytes = [UInt8](p.rawData)
            return
        }
        func check(_ n: Int, _ field: String) throws {
            guard n == count else { throw bad("\(field) holds \(n) values; dims \(dims) need \(count)") }
        }
        switch dataType {
        case .float:
            try check(p.floatData.count, "float_data")
            bytes = littleEndianBytes(p.floatData)
        case .double:
            try check(p.doubleData.count, "double_data")
            bytes = littleEndianBytes(p.doubleData)
        case .int64:
            try check(p.int64Data.count, "int64_data")
            bytes = littleEndianBytes(p.int64Data)
        case .uint64:
            try check(p.uint64Data.count, "uint64_data")
            bytes = littleEndianBytes(p.uint64Data)
        case .uint32:
            try check(p.uint64Data.count, "uint64_data")
            bytes = littleEndianBytes(p.uint64Data.map { UInt32(truncatingIfNeeded: $0) })
        case .int32:
            try check(p.int32Data.count, "int32_data")
            bytes = littleEndianBytes(p.int32Data)
        case .int16, .uint16, .float16, .bfloat16:
            try check(p.int32Data.count, "int32_data")
            bytes = littleEndianBytes(p.int32Data.map { UInt16(truncatingIfNeeded: $0) })
        case .int8, .uint8, .bool:
            try check(p.int32Data.count, "int32_data")
            bytes = p.int32Data.map { UInt8(truncatingIfNeeded: $0) }
        default:
            throw bad("data type \(dataType.name) in typed fields is not readable by this test")
        }
    }

    /// The tensor as the runtime takes it, or nil if ModelIR has no such element type.
    func modelIRTensor() throws -> Tensor? {
        guard let et = dataType.elementType else { return nil }
        if et == .string { return try Tensor(strings: strings, shape: shape) }
        return try Tensor(elementType: et, shape: shape, bytes: bytes)
    }

    /// Every element as a Double, as numpy.testing.assert_allclose sees them (it compares in
    /// float64); nil for strings and types without a numeric reading here.
    var doubles: [Double]? {
        let n = elementCount
        func load<T: BitwiseCopyable>(_: T.Type, _ convert: (T) -> Double) -> [Double] {
            bytes.withUnsafeBytes { raw in
                (0..<n).map { convert(raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
            }
        }
        switch dataType {
        case .float: return load(Float.self) { Double($0) }
        case .double: return load(Double.self) { $0 }
        case .float16: return load(UInt16.self) { Double(Tensor.float16ToFloat($0)) }
        case .bfloat16: return load(UInt16.self) { Double(Float(bitPattern: UInt32($0) << 16)) }
        case .int8: return load(Int8.self) { Double($0) }
        case .uint8, .bool: return load(UInt8.self) { Double($0) }
        case .int16: return load(Int16.self) { Double($0) }
        case .uint16: return load(UInt16.self) { Double($0) }
        case .int32: return load(Int32.self) { Double($0) }
        case .uint32: return load(UInt32.self) { Double($0) }
        case .int64: return load(Int64.self) { Double($0) }
        case .uint64: return load(UInt64.self) { Double($0) }
        default: return nil
        }
    }

    /// A runtime output in the same form, for comparison.
    init(_ t: Tensor) {
        dataType = ONNXType(t.elementType)
        shape = t.shape
        bytes = t.bytes
        strings = t.strings
    }
}

private func littleEndianBytes<T: BitwiseCopyable>(_ values: [T]) -> [UInt8] {
    values.withUnsafeBytes { Array($0) }
}
