import ModelIR

/// The packed weights a plan was given and the ones it made (to be written into an artifact
/// for a device of the same kernel path).
final class PackedWeightStore: @unchecked Sendable {
    // Sendable proof: written only while the plan is built (single-threaded), read afterwards.
    let provided: [String: PackedTensor]
    private(set) var made: [String: PackedTensor] = [:]
    /// Pack-only planning (`Q8GemmPrepack`): GEMM weights are packed for this int8 path, with
    /// its portable packer, whatever this host runs; such a plan is never executed.
    let packPath: String?

    init(provided: [String: PackedTensor], packPath: String? = nil) {
        self.provided = provided
        self.packPath = packPath
    }

    func record(_ name: String, _ w: PackedTensor) { made[name] = w }
}
