import Foundation
import ModelArtifact
import ModelIR
import Runtime

/// An artifact read from a slot (signature checked against the pinned keys) and planned for
/// this machine, with the artifact's pre-packed weights handed to the plan.
struct LoadedModel: Sendable {
    let artifact: Artifact
    let plan: ExecutionPlan

    /// - Parameter threads: intra-op threads per session (nil: every CPU the process may use).
    static func load(path: String, pinnedKeys: [ArtifactPublicKey], threads: Int? = nil) throws -> LoadedModel {
        try plan(ArtifactReader.open(URL(fileURLWithPath: path), trust: .pinnedKeys(pinnedKeys)), threads: threads)
    }

    /// Plans an artifact already opened and verified (`ArtifactReader.open` under the pinned
    /// keys): the install's own check, handed on so the trial does not map and hash the same
    /// file a second time.
    static func plan(_ artifact: Artifact, threads: Int? = nil) throws -> LoadedModel {
        // Symbolic dims take the validation samples' sizes (the shapes the model was checked
        // with), else 1: the device serves single inferences.
        var bindings: [String: Int] = [:]
        let sample = artifact.validation?.samples.first
        for input in artifact.model.graph.inputs {
            for (i, d) in (input.type.shape?.dims ?? []).enumerated() {
                guard case .symbolic(let name) = d else { continue }
                let shape = sample?.inputs[input.name]?.shape
                bindings[name] = shape.flatMap { i < $0.count ? $0[i] : nil } ?? 1
            }
        }
        let plan = try ExecutionPlan(
            model: artifact.model, bindings: bindings,
            options: .init(packedWeights: artifact.packedWeights, threads: threads ?? ExecutionPlan.Options.defaultThreads))
        return LoadedModel(artifact: artifact, plan: plan)
    }
}
