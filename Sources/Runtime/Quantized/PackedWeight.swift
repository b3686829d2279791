public import ModelIR

/// A weight packed for one kernel path, as an artifact carries it (`Artifact.packedWeights`,
/// keyed by the initializer name it replaces). `layout` names the path and packing. int8 GEMM
/// weights: "flotilla.q8.gemm.<path>.<layout id>" (e.g. "flotilla.q8.gemm.avx512vnni.2"), one
/// CKernels packed buffer per convolution group, back to back, each starting with its 64-byte
/// header (which also records M, K and the activation zero point the bias was folded with).
/// fp32 Gemm/MatMul weights: "flotilla.f32.gemm.<path>.<nr>" (`F32PackedB`).
public struct PackedWeight: Sendable {
    public let layout: String
    /// Logical type of the weight tensor it stands for.
    public let elementType: ElementType
    public let shape: [Int]
    public let storage: TensorStorage

    public init(layout: String, elementType: ElementType, shape: [Int], storage: TensorStorage) {
        self.layout = layout
        self.elementType = elementType
        self.shape = shape
        self.storage = storage
    }

    public var byteCount: Int { storage.count }

    /// The kernel path a layout id belongs to ("avx512vnni" for "flotilla.q8.gemm.avx512vnni.2"),
    /// or nil if the id is not one of Flotilla's int8 GEMM layouts.
    public static func path(ofLayout layout: String) -> String? {
        let parts = layout.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "flotilla", parts[1] == "q8", parts[2] == "gemm", UInt32(parts[4]) != nil else { return nil }
        return String(parts[3])
    }

    static func layoutName(path: String, id: UInt32) -> String { "flotilla.q8.gemm.\(path).\(id)" }
}

/// The packed weights a plan was given and the ones it made (to be written into an artifact
/// for a device of the same kernel path).
final class PackedWeightStore: @unchecked Sendable {
    // Sendable proof: written only while the plan is built (single-threaded), read afterwards.
    let provided: [String: PackedWeight]
    private(set) var made: [String: PackedWeight] = [:]
    /// Pack-only planning (`Q8GemmPrepack`): GEMM weights are packed for this int8 path, with
    /// its portable packer, whatever this host runs; such a plan is never executed.
    let packPath: String?

    init(provided: [String: PackedWeight], packPath: String? = nil) {
        self.provided = provided
        self.packPath = packPath
    }

    func record(_ name: String, _ w: PackedWeight) { made[name] = w }
}
