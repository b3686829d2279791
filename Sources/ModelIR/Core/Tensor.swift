/// A constant tensor (initializer, folded value, attribute): element type, concrete shape and
/// little-endian contiguous bytes in row-major order. String tensors keep their values in
/// `strings` and have no bytes.
///
/// Float16 data is never stored here: the importer converts it to float32 (see
/// docs/model-ir.md), so every consumer handles one float format.
public struct Tensor: Sendable, CustomStringConvertible {
    public let elementType: ElementType
    public let shape: [Int]
    public let storage: TensorStorage
    public let strings: [String]

    /// Wraps existing storage; throws if its byte count does not match shape × element size.
    public init(elementType: ElementType, shape: [Int], storage: TensorStorage) throws {
        guard let count = Shape.checkedProduct(shape) else {
            throw ModelIRError.invalidTensor("shape \(shape) has a negative dimension or overflows")
        }
        guard let size = elementType.byteSize else {
            throw ModelIRError.invalidTensor("a \(elementType) tensor has no byte storage; use init(strings:shape:)")
        }
        let (expected, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, storage.count == expected else {
            throw ModelIRError.invalidTensor(
                "\(storage.count) bytes for a \(elementType) tensor of shape \(shape), which needs \(count) × \(size) bytes")
        }
        self.elementType = elementType
        self.shape = shape
        self.storage = storage
        self.strings = []
    }

    public init(elementType: ElementType, shape: [Int], bytes: [UInt8]) throws {
        try self.init(elementType: elementType, shape: shape, storage: TensorStorage(bytes: bytes))
    }

    public init(strings: [String], shape: [Int]) throws {
        guard let count = Shape.checkedProduct(shape), count == strings.count else {
            throw ModelIRError.invalidTensor("\(strings.count) strings for shape \(shape)")
        }
        self.elementType = .string
        self.shape = shape
        self.storage = TensorStorage(bytes: [])
        self.strings = strings
    }

    public var elementCount: Int { Shape.checkedProduct(shape) ?? 0 }
    public var rank: Int { shape.count }
    public var byteCount: Int { storage.count }
    public var tensorType: TensorType { TensorType(elementType, Shape(shape)) }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes(body)
    }

    public var bytes: [UInt8] { storage.bytes }

    /// Same data, new shape (element counts must match).
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        guard Shape.checkedProduct(newShape) == elementCount else {
            throw ModelIRError.invalidTensor("cannot reshape \(shape) to \(newShape): element counts differ")
        }
        if elementType == .string { return try Tensor(strings: strings, shape: newShape) }
        return try Tensor(elementType: elementType, shape: newShape, storage: storage)
    }

    public var description: String {
        let preview: String
        switch elementType {
        case .float32: preview = (floats ?? []).prefix(6).map { "\($0)" }.joined(separator: ", ")
        case .string: preview = strings.prefix(6).joined(separator: ", ")
        default: preview = (asInt64s ?? []).prefix(6).map(String.init).joined(separator: ", ")
        }
        return "Tensor(\(elementType)\(shape): \(preview)\(elementCount > 6 ? ", …" : ""))"
    }
}

extension Tensor: Equatable {
    public static func == (a: Tensor, b: Tensor) -> Bool {
        a.elementType == b.elementType && a.shape == b.shape && a.strings == b.strings && a.bytes == b.bytes
    }
}
