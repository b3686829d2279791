/// A graph rewrite. Passes keep the graph valid (SSA, topological order, graph output names)
/// and report what they changed.
public protocol Pass: Sendable {
    var name: String { get }
    func run(on model: inout Model) throws -> PassReport
}

/// What one pass did, for logs and `flotilla inspect`.
public struct PassReport: Sendable, Equatable, CustomStringConvertible {
    public var pass: String
    /// Names of nodes removed (folded, fused away, dead).
    public var removedNodes: [String] = []
    /// Names of nodes whose inputs, attributes or activation were changed.
    public var modifiedNodes: [String] = []
    /// Initializers added (folded constants, folded weights).
    public var addedInitializers: [String] = []
    public var removedInitializers: [String] = []
    /// Free-form notes (e.g. why a candidate was skipped).
    public var notes: [String] = []
    /// For a node that replaces several (a fused QDQ pattern): the names of the nodes it was
    /// made from, in graph order, itself included. Profiles name a fused step's sources by it.
    public var fusedFrom: [String: [String]] = [:]

    public init(pass: String) { self.pass = pass }

    public var changed: Bool {
        !removedNodes.isEmpty || !modifiedNodes.isEmpty || !addedInitializers.isEmpty || !removedInitializers.isEmpty
    }

    public var description: String {
        guard changed else { return "\(pass): no change" }
        var parts: [String] = []
        if !removedNodes.isEmpty { parts.append("removed \(removedNodes.count) nodes") }
        if !modifiedNodes.isEmpty { parts.append("modified \(modifiedNodes.count) nodes") }
        if !addedInitializers.isEmpty { parts.append("added \(addedInitializers.count) initializers") }
        if !removedInitializers.isEmpty { parts.append("removed \(removedInitializers.count) initializers") }
        return "\(pass): " + parts.joined(separator: ", ")
    }
}

/// Runs passes in order. `stopAfter` (1-based count) stops early, to inspect the graph
/// between passes when debugging a rewrite.
public struct PassPipeline: Sendable {
    public var passes: [any Pass]

    public init(_ passes: [any Pass]) { self.passes = passes }

    /// The standard host-side pipeline: fold constants, remove Identity/Dropout, fold
    /// BatchNormalization, fuse activations, remove dead nodes.
    public static func standard(evaluator: any ConstantEvaluator = BuiltinConstantEvaluator()) -> PassPipeline {
        PassPipeline([
            ConstantFolding(evaluator: evaluator), IdentityElimination(), BatchNormFolding(), ActivationFusion(),
            DeadNodeElimination(),
        ])
    }

    /// Runs the passes (all, or the first `stopAfter`), re-sorting and validating after each;
    /// a pass that breaks the graph is reported by name.
    @discardableResult
    public func run(on model: inout Model, stopAfter: Int? = nil) throws -> [PassReport] {
        var reports: [PassReport] = []
        for pass in passes.prefix(stopAfter ?? passes.count) {
            reports.append(try pass.run(on: &model))
            do {
                try model.graph.sortTopologically()
                try model.graph.validate()
            } catch let e as ModelIRError {
                throw ModelIRError.passFailed(pass: pass.name, detail: "left an invalid graph: \(e)")
            }
        }
        return reports
    }
}
