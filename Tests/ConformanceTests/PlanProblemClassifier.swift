import ModelIR
import Runtime

/// Sorts the runtime's plan problems into skips (an op or element type the runtime does not
/// run, a feature it deliberately leaves out) and failures (everything else), by the typed
/// `RuntimeError.NodeProblem.kind` the runtime attaches to each problem.
struct PlanProblemClassifier {
    let graph: Graph

    static let spatial = "3-D and higher spatial ranks (the runtime runs 1-D and 2-D windows)"
    static let dataDependent = "data-dependent shapes (the runtime plans memory statically)"

    func classify(_ problems: [RuntimeError.NodeProblem]) -> NodeTestOutcome {
        var skips: [SkipReason] = []
        for p in problems {
            switch p.kind {
            case .invalid:
                let all = problems.map(\.description).joined(separator: "; ")
                return .fail(NodeTestFailure(stage: .plan, detail: all))
            case .unsupportedOp: skips.append(.unsupportedOps([p.opType]))
            case .unsupportedElementType(let t): skips.append(.elementType(ONNXType(t).name, op: p.opType))
            case .unsupportedAttribute(let name):
                skips.append(.unsupportedFeature("\(p.opType) \(name)", context: p.description))
            case .unsupportedRank: skips.append(.unsupportedFeature(Self.spatial, context: p.description))
            case .trainingMode: skips.append(.trainingMode(p.description))
            case .dataDependentShape: skips.append(.unsupportedFeature(Self.dataDependent, context: p.description))
            }
        }
        guard let first = skips.first else {
            return .fail(NodeTestFailure(stage: .plan, detail: "planning failed without naming a problem"))
        }
        return .skip(first)
    }
}
