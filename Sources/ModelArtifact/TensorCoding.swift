import ModelIR

/// Accumulates tensor bytes for a data section (weights, validation data): every tensor starts
/// on a 64-byte boundary relative to the section, which the writer itself places on a 64-byte
/// boundary of the file, and the padding is zero.
struct TensorDataBuilder {
    private(set) var bytes: [UInt8] = []
    /// Sum of tensor lengths, padding excluded.
    private(set) var tensorBytes = 0

    mutating func append(_ storage: TensorStorage) -> (offset: Int, length: Int) {
        let aligned = ArtifactLayout.align(bytes.count, ArtifactFormat.tensorAlignment)
        bytes.append(contentsOf: repeatElement(0, count: aligned - bytes.count))
        storage.withUnsafeBytes { bytes.append(contentsOf: $0) }
        tensorBytes += storage.count
        return (aligned, storage.count)
    }
}

/// Tensor references: the JSON that names a tensor's type, shape and place in a data section.
enum TensorCoding {
    static func encode(_ tensor: Tensor, into data: inout TensorDataBuilder) -> JSONValue {
        var members: [String: JSONValue] = [
            "elementType": .string(tensor.elementType.rawValue),
            "shape": .array(tensor.shape.map(JSONValue.integer)),
        ]
        if tensor.elementType == .string {
            members["strings"] = .strings(tensor.strings)
        } else {
            let (offset, length) = data.append(tensor.storage)
            members["offset"] = .integer(offset)
            members["length"] = .integer(length)
        }
        return .object(members)
    }

    static func encode(_ packed: PackedTensor, into data: inout TensorDataBuilder) -> JSONValue {
        let (offset, length) = data.append(packed.storage)
        return .object([
            "elementType": .string(packed.elementType.rawValue),
            "shape": .array(packed.shape.map(JSONValue.integer)),
            "layout": .string(packed.layout),
            "offset": .integer(offset),
            "length": .integer(length),
        ])
    }

    /// Where decoded tensors borrow their bytes from: one data section of a verified artifact.
    struct Source {
        let region: UnsafeRawBufferPointer
        let memory: ArtifactMemory
    }

    static func isPacked(_ field: JSONField) throws(ArtifactError) -> Bool {
        try field.optionalField("layout") != nil
    }

    /// A plain tensor; its bytes borrow the mapping (no copy).
    static func tensor(_ field: JSONField, from source: Source) throws(ArtifactError) -> Tensor {
        let element = try IRCoding.elementType(try field.field("elementType"))
        let shape = try concreteShape(try field.field("shape"))
        guard let count = Shape.checkedProduct(shape) else { throw field.fail("shape \(shape) element count overflows") }
        if element == .string {
            let strings = try field.field("strings").strings()
            do { return try Tensor(strings: strings, shape: shape) } catch { throw field.fail("\(error)") }
        }
        guard let size = element.byteSize else { throw field.fail("element type \(element) has no byte size") }
        let (expected, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow else { throw field.fail("shape \(shape) of \(element) needs more than Int.max bytes") }
        let region = try slice(field, from: source)
        guard region.count == expected else {
            throw field.fail("length \(region.count) does not match shape \(shape) × \(size) bytes = \(expected)")
        }
        do {
            return try Tensor(elementType: element, shape: shape, storage: TensorStorage(borrowing: region, owner: source.memory))
        } catch {
            throw field.fail("\(error)")
        }
    }

    /// A packed tensor: the length is whatever the layout needs, only bounds are checked.
    static func packed(_ field: JSONField, from source: Source) throws(ArtifactError) -> PackedTensor {
        let element = try IRCoding.elementType(try field.field("elementType"))
        let shape = try concreteShape(try field.field("shape"))
        let layout = try field.field("layout").string()
        let region = try slice(field, from: source)
        do {
            return try PackedTensor(
                layout: layout, elementType: element, shape: shape, storage: TensorStorage(borrowing: region, owner: source.memory))
        } catch {
            throw field.fail("\(error)")
        }
    }

    private static func concreteShape(_ field: JSONField) throws(ArtifactError) -> [Int] {
        let items = try field.array()
        guard items.count <= ArtifactFormat.maxRank else { throw field.fail("rank \(items.count) exceeds \(ArtifactFormat.maxRank)") }
        var shape: [Int] = []
        for item in items { shape.append(try item.count()) }
        return shape
    }

    private static func slice(_ field: JSONField, from source: Source) throws(ArtifactError) -> UnsafeRawBufferPointer {
        let offset = try field.field("offset").count()
        let length = try field.field("length").count()
        guard offset % ArtifactFormat.tensorAlignment == 0 else {
            throw field.fail("offset \(offset) is not a multiple of \(ArtifactFormat.tensorAlignment)")
        }
        guard offset <= source.region.count, length <= source.region.count - offset else {
            throw field.fail("bytes \(offset) + \(length) lie outside the \(source.region.count)-byte data section")
        }
        return UnsafeRawBufferPointer(rebasing: source.region[offset..<(offset + length)])
    }
}
