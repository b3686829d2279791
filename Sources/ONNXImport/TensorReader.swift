import Foundation
import ModelIR
import ONNXProto

/// Turns `TensorProto`s into IR tensors: raw_data, the typed repeated fields, or external
/// data files next to the model. float16 and bfloat16 are widened to float32. Sizes are
/// checked against the declared dims before anything is allocated.
struct TensorReader {
    /// Directory external data locations are resolved against; nil when importing from bytes.
    var baseDirectory: URL?
    var maxTensorBytes: Int

    func tensor(_ p: Onnx_TensorProto, name given: String? = nil) throws -> Tensor {
        let name = given ?? p.name
        func bad(_ detail: String) -> ONNXImportError { .invalidTensor(name: name, detail: detail) }
        if p.hasSegment { throw bad("segmented tensors are not supported; save the model without segments") }
        let code = Int(p.dataType)
        let widened = code == ONNXDataType.float16 || code == ONNXDataType.bfloat16
        guard let elementType = widened ? .float32 : ONNXDataType.elementType(code) else {
            throw ONNXImportError.unsupportedDataType(name: name, code: code)
        }
        guard p.dims.allSatisfy({ $0 >= 0 && $0 <= Int64(Int32.max) }) else {
            throw bad("dims \(p.dims) contain a negative or absurdly large size")
        }
        let dims = p.dims.map { Int($0) }
        guard let count = Shape.checkedProduct(dims) else { throw bad("dims \(dims) overflow the element count") }
        let sourceSize = widened ? 2 : (elementType.byteSize ?? 0)
        let (storedBytes, overflow) = count.multipliedReportingOverflow(by: max(elementType.byteSize ?? 1, 1))
        guard !overflow, storedBytes <= maxTensorBytes else {
            throw bad(
                "dims \(dims) declare \(count) elements, more than the \(maxTensorBytes)-byte tensor limit; the model is corrupt or too large"
            )
        }
        if elementType == .string {
            guard p.stringData.count == count else { throw bad("\(p.stringData.count) strings for dims \(dims)") }
            return try Tensor(strings: p.stringData.map { String(decoding: $0, as: UTF8.self) }, shape: dims)
        }
        let expected = count * sourceSize
        var raw: [UInt8]?
        if p.dataLocation == .external {
            raw = try readExternal(p, name: name, expected: expected)
        } else if p.hasRawData {
            guard p.rawData.count == expected else {
                throw bad("raw_data has \(p.rawData.count) bytes but dims \(dims) of \(ONNXDataType.name(code)) need \(expected)")
            }
            raw = [UInt8](p.rawData)
        }
        if let raw {
            if code == ONNXDataType.float16 {
                return try Tensor(floats: halfWords(raw).map(Tensor.float16ToFloat), shape: dims)
            }
            if code == ONNXDataType.bfloat16 {
                return try Tensor(floats: halfWords(raw).map { Float(bitPattern: UInt32($0) << 16) }, shape: dims)
            }
            return try Tensor(elementType: elementType, shape: dims, bytes: raw)
        }
        return try typedFields(p, code: code, elementType: elementType, dims: dims, count: count, bad)
    }

    private func typedFields(
        _ p: Onnx_TensorProto, code: Int, elementType: ElementType, dims: [Int], count: Int, _ bad: (String) -> ONNXImportError
    ) throws -> Tensor {
        func check(_ n: Int, _ field: String) throws {
            guard n == count else { throw bad("\(field) holds \(n) values but dims \(dims) need \(count)") }
        }
        switch code {
        case ONNXDataType.float:
            try check(p.floatData.count, "float_data")
            return try Tensor(floats: p.floatData, shape: dims)
        case ONNXDataType.double:
            try check(p.doubleData.count, "double_data")
            return try Tensor(doubles: p.doubleData, shape: dims)
        case ONNXDataType.int64:
            try check(p.int64Data.count, "int64_data")
            return try Tensor(int64s: p.int64Data, shape: dims)
        case ONNXDataType.uint32, ONNXDataType.uint64:
            try check(p.uint64Data.count, "uint64_data")
            let values = p.uint64Data.map { Int64(bitPattern: $0) }
            return try Tensor(
                elementType: elementType, shape: dims,
                bytes: code == ONNXDataType.uint32
                    ? values.flatMap { le(UInt32(truncatingIfNeeded: $0)) } : values.flatMap { le(UInt64(bitPattern: $0)) })
        case ONNXDataType.float16:
            try check(p.int32Data.count, "int32_data")
            return try Tensor(floats: p.int32Data.map { Tensor.float16ToFloat(UInt16(truncatingIfNeeded: $0)) }, shape: dims)
        case ONNXDataType.bfloat16:
            try check(p.int32Data.count, "int32_data")
            return try Tensor(floats: p.int32Data.map { Float(bitPattern: UInt32(UInt16(truncatingIfNeeded: $0)) << 16) }, shape: dims)
        default:
            // int32, int16, int8, uint16, uint8, bool: one int32_data entry per element.
            try check(p.int32Data.count, "int32_data")
            let v = p.int32Data
            let bytes: [UInt8]
            switch elementType {
            case .int32: bytes = v.flatMap { le(UInt32(bitPattern: $0)) }
            case .int16, .uint16: bytes = v.flatMap { le(UInt16(truncatingIfNeeded: $0)) }
            default: bytes = v.map { UInt8(truncatingIfNeeded: $0) }
            }
            return try Tensor(elementType: elementType, shape: dims, bytes: bytes)
        }
    }

    /// Reads `location`/`offset`/`length` from a file inside `baseDirectory`; rejects paths
    /// that escape it and ranges beyond the file's end.
    private func readExternal(_ p: Onnx_TensorProto, name: String, expected: Int) throws -> [UInt8] {
        var fields: [String: String] = [:]
        for e in p.externalData { fields[e.key] = e.value }
        let location = fields["location"] ?? ""
        func fail(_ detail: String) -> ONNXImportError { .externalData(name: name, location: location, detail: detail) }
        guard let base = baseDirectory else {
            throw fail("the model was imported from bytes; import it from its file URL so external data can be found next to it")
        }
        guard !location.isEmpty else { throw fail("no 'location' entry") }
        let components = location.split(separator: "/", omittingEmptySubsequences: false)
        guard !location.hasPrefix("/"), !location.contains("\\"), !components.contains("..") else {
            throw fail("the path must stay inside the model's directory (no absolute paths, no '..')")
        }
        let root = base.standardizedFileURL.resolvingSymlinksInPath().path
        let file = base.appendingPathComponent(location).standardizedFileURL.resolvingSymlinksInPath()
        guard file.path.hasPrefix(root.hasSuffix("/") ? root : root + "/") else {
            throw fail("resolves to \(file.path), outside the model's directory \(root)")
        }
        guard let offset = Int(fields["offset"] ?? "0"), offset >= 0 else {
            throw fail("offset '\(fields["offset"] ?? "")' is not a non-negative integer")
        }
        var length = expected
        if let l = fields["length"] {
            guard let v = Int(l), v >= 0 else { throw fail("length '\(l)' is not a non-negative integer") }
            guard v == expected else { throw fail("length \(v) does not match the \(expected) bytes its dims need") }
            length = v
        }
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: file.path),
            let size = (attributes[.size] as? NSNumber)?.intValue
        else { throw fail("file \(file.path) does not exist or cannot be read; keep the data file next to the model") }
        guard offset <= size, length <= size - offset else {
            throw fail("bytes \(offset)..<\(offset + length) lie beyond the end of \(file.lastPathComponent) (\(size) bytes)")
        }
        guard let handle = try? FileHandle(forReadingFrom: file) else { throw fail("cannot open \(file.path)") }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: UInt64(offset))
            let data = try handle.read(upToCount: length) ?? Data()
            guard data.count == length else { throw fail("read \(data.count) of \(length) bytes") }
            return [UInt8](data)
        } catch let e as ONNXImportError {
            throw e
        } catch {
            throw fail("read failed: \(error)")
        }
    }

    private func halfWords(_ raw: [UInt8]) -> [UInt16] {
        stride(from: 0, to: raw.count - 1, by: 2).map { UInt16(raw[$0]) | UInt16(raw[$0 + 1]) << 8 }
    }
}

/// Little-endian bytes of a fixed-width integer.
func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
    withUnsafeBytes(of: v.littleEndian) { Array($0) }
}
