import ModelIR
import Runtime

/// Sorts the runtime's plan problems into skips (an element type an op does not run on, a
/// feature the runtime deliberately leaves out) and failures (everything else).
///
/// The runtime reports problems as text (`RuntimeError.NodeProblem.detail`), so this reads the
/// phrases its messages use; a message it does not recognise is a failure, which errs on the
/// side of reporting too much.
struct PlanProblemClassifier {
    let graph: Graph

    /// A runtime message that names a deliberate limitation: its phrase, what to call it, and
    /// a check that the node really is in the limited case (so a malformed rank-2 input to a
    /// pool, say, is still a failure).
    struct Limitation: Sendable {
        var phrase: String
        var reason: @Sendable (RuntimeError.NodeProblem) -> SkipReason
        var applies: @Sendable (Node, Graph) -> Bool = { _, _ in true }
    }

    static let limitations: [Limitation] = {
        let spatial = "3-D and higher spatial ranks (the runtime runs 1-D and 2-D windows)"
        let rank5: @Sendable (Node, Graph) -> Bool = { n, g in (n.input(0).flatMap { g.type(of: $0)?.rank } ?? 0) >= 5 }
        return [
            Limitation(
                phrase: "spatial inputs are not supported", reason: { .unsupportedFeature(spatial, context: $0.description) },
                applies: rank5),
            Limitation(phrase: "NCW or NCHW", reason: { .unsupportedFeature(spatial, context: $0.description) }, applies: rank5),
            Limitation(
                phrase: "known at plan time",
                reason: {
                    .unsupportedFeature("data-dependent shapes (the runtime plans memory statically)", context: $0.description)
                }),
            // LayerNormalization's Mean and InvStdDev outputs exist for the backward pass.
            Limitation(phrase: "(training) are not supported", reason: { .trainingMode($0.description) }),
        ]
    }()

    /// Phrases that make a problem about types even when it names none ("this reduction runs on
    /// float32 only"); a bare "is not supported" counts only next to a type name, since the
    /// runtime uses it for unsupported modes and attributes too.
    static let typeWording = ["runs on", "must be float32", "must be an integer tensor"]
    static let unsupportedWording = ["is not supported", "are not supported"]

    func classify(_ problems: [RuntimeError.NodeProblem]) -> NodeTestOutcome {
        var skips: [SkipReason] = []
        for p in problems {
            let node = Self.node(named: p.node, in: graph)
            if let l = Self.limitations.first(where: { l in p.detail.contains(l.phrase) && node.map { l.applies($0, graph) } ?? false }) {
                skips.append(l.reason(p))
            } else if let t = unsupportedType(p) {
                skips.append(.elementType(t, op: p.opType))
            } else {
                let all = problems.map(\.description).joined(separator: "; ")
                return .fail(NodeTestFailure(stage: .plan, detail: all))
            }
        }
        guard let first = skips.first else {
            return .fail(NodeTestFailure(stage: .plan, detail: "planning failed without naming a problem"))
        }
        return .skip(first)
    }

    /// The element type (ONNX name) a type problem is about: the first non-float32 type the
    /// message names before the list of types the op does run on; else, for messages worded
    /// about types, the first non-float32 type among the node's inputs and outputs.
    func unsupportedType(_ p: RuntimeError.NodeProblem) -> String? {
        let d = p.detail
        let aboutTypes = Self.typeWording.contains(where: d.contains)
        guard aboutTypes || Self.unsupportedWording.contains(where: d.contains) else { return nil }
        var head = d
        for cut in ["runs on", "(types:"] {
            if let r = head.range(of: cut) { head = String(head[..<r.lowerBound]) }
        }
        var accepted: Set<String> = []
        if let r = d.range(of: "(types:") { accepted = Self.words(String(d[r.upperBound...])) }
        let named = Self.words(head)
        if let t = ElementType.allCases.first(where: { $0 != .float32 && named.contains($0.rawValue) && !accepted.contains($0.rawValue) }) {
            return ONNXType(t).name
        }
        guard aboutTypes, let node = Self.node(named: p.node, in: graph) else { return nil }
        let types = (node.inputs + node.outputs).filter { !$0.isEmpty }.compactMap { graph.type(of: $0)?.elementType }
        return types.first { $0 != .float32 }.map { ONNXType($0).name }
    }

    static func words(_ s: String) -> Set<String> {
        Set(s.split { !$0.isLetter && !$0.isNumber }.map(String.init))
    }

    static func node(named name: String, in graph: Graph) -> Node? {
        for n in graph.nodes {
            if n.name == name { return n }
            for g in n.subgraphs { if let found = node(named: name, in: g) { return found } }
        }
        return nil
    }
}
