public import ModelIR

/// A weight pre-packed for one kernel family: opaque bytes whose arrangement only the kernels
/// named by `layout` understand (e.g. "qs8_gemm_avx512vnni_v1"), plus the logical type of the
/// tensor they stand for, so a device can check it holds a kernel for that layout and the
/// runtime can still type the graph.
///
/// A packed weight replaces the plain initializer of the same name in the model's main graph:
/// the artifact stores it instead, and the runtime treats its name as a defined constant.
public struct PackedTensor: Sendable, Equatable, CustomStringConvertible {
    public let layout: String
    /// Logical element type and shape of the unpacked tensor.
    public let elementType: ElementType
    public let shape: [Int]
    public let storage: TensorStorage

    /// Throws if the layout id is empty or not `[A-Za-z0-9_.-]`, or the logical shape has a
    /// negative dimension or overflows. The byte length is whatever the packing needs.
    public init(layout: String, elementType: ElementType, shape: [Int], storage: TensorStorage) throws(ArtifactError) {
        try Self.check(layout: layout, elementType: elementType, shape: shape, path: "packed tensor")
        self.layout = layout
        self.elementType = elementType
        self.shape = shape
        self.storage = storage
    }

    public init(layout: String, elementType: ElementType, shape: [Int], bytes: [UInt8]) throws(ArtifactError) {
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

    static func check(layout: String, elementType: ElementType, shape: [Int], path: String) throws(ArtifactError) {
        let allowed = layout.utf8.allSatisfy { c in
            (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c) || c == 0x5F || c == 0x2E || c == 0x2D
        }
        guard !layout.isEmpty, layout.utf8.count <= 128, allowed else {
            throw .unsupportedModel(path: path, detail: "layout id \"\(layout)\" must be 1–128 characters of [A-Za-z0-9_.-]")
        }
        guard elementType.byteSize != nil else {
            throw .unsupportedModel(path: path, detail: "a packed tensor cannot have element type \(elementType)")
        }
        guard shape.count <= ArtifactFormat.maxRank, Shape.checkedProduct(shape) != nil else {
            throw .unsupportedModel(
                path: path, detail: "logical shape \(shape) has a negative dimension, overflows, or exceeds rank \(ArtifactFormat.maxRank)")
        }
    }
}
