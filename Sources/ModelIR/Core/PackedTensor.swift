/// A weight pre-packed for one kernel path: opaque bytes whose arrangement only the kernels
/// named by `layout` understand, plus the logical type of the tensor they stand for, so a device
/// can check it holds a kernel for that layout and the runtime can still type the graph.
///
/// A packed tensor replaces the plain initializer of the same name in a model's main graph:
/// an artifact stores it instead (`Artifact.packedWeights`), a plan takes it in place of packing
/// that weight itself (`ExecutionPlan.Options.packedWeights`) and hands back the ones it packed
/// (`plan.packedWeights`). It lives here, below both, so neither converts to the other's type.
/// The layout ids the runtime writes are described in docs/int8-runtime.md.
public struct PackedTensor: Sendable, Equatable, CustomStringConvertible {
    /// Longest layout id accepted; ids name a kernel path and a packing version, never data.
    public static let maxLayoutLength = 128

    public let layout: String
    /// Logical element type and shape of the unpacked tensor.
    public let elementType: ElementType
    public let shape: [Int]
    /// The packed bytes; may borrow memory (a mapped artifact) rather than own it.
    public let storage: TensorStorage

    /// Throws `ModelIRError.invalidPackedTensor` if the layout id is empty, longer than
    /// `maxLayoutLength` or not `[A-Za-z0-9_.-]`, the element type has no byte size, or the
    /// logical shape has a negative dimension or overflows. The byte length is whatever the
    /// packing needs.
    public init(layout: String, elementType: ElementType, shape: [Int], storage: TensorStorage) throws(ModelIRError) {
        try Self.validate(layout: layout, elementType: elementType, shape: shape)
        self.layout = layout
        self.elementType = elementType
        self.shape = shape
        self.storage = storage
    }

    public init(layout: String, elementType: ElementType, shape: [Int], bytes: [UInt8]) throws(ModelIRError) {
        try self.init(layout: layout, elementType: elementType, shape: shape, storage: TensorStorage(bytes: bytes))
    }

    public var byteCount: Int { storage.count }
    public var bytes: [UInt8] { storage.bytes }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes(body)
    }

    /// The logical type, for shape inference and planning.
    public var tensorType: TensorType { TensorType(elementType, Shape(shape)) }

    public var description: String { "PackedTensor(\(layout), \(elementType)\(shape), \(byteCount) bytes)" }

    public static func == (a: PackedTensor, b: PackedTensor) -> Bool {
        a.layout == b.layout && a.elementType == b.elementType && a.shape == b.shape && a.bytes == b.bytes
    }

    private static func validate(layout: String, elementType: ElementType, shape: [Int]) throws(ModelIRError) {
        let allowed = layout.utf8.allSatisfy { c in
            (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || c == 0x5F || c == 0x2E || c == 0x2D
        }
        guard !layout.isEmpty, layout.utf8.count <= maxLayoutLength, allowed else {
            throw .invalidPackedTensor(
                layout: layout, elementType: elementType, shape: shape,
                detail: "the layout id must be 1–\(maxLayoutLength) characters of [A-Za-z0-9_.-]; "
                    + "name the kernel path and packing with such an id (e.g. \"flotilla.q8.gemm.avx2.1\")")
        }
        guard elementType.byteSize != nil else {
            throw .invalidPackedTensor(
                layout: layout, elementType: elementType, shape: shape,
                detail: "a \(elementType) tensor has no byte storage to pack; only numeric weights can be packed")
        }
        guard Shape.checkedProduct(shape) != nil else {
            throw .invalidPackedTensor(
                layout: layout, elementType: elementType, shape: shape,
                detail: "the logical shape has a negative dimension or its element count overflows; "
                    + "give the shape of the unpacked weight")
        }
    }
}
