import ModelIR

/// A step before memory assignment: the node, what its op planned, and the values it reads.
struct PendingStep {
    let node: Node
    let outputs: [ValueType]
    let workspaceBytes: Int
    let make: (KernelBuffers) throws -> any Kernel
    /// Values of this graph or of enclosing graphs the step reads, including subgraph captures.
    let reads: [String]
    /// The bound types of the node's inputs (nil where an optional input is omitted).
    let inputs: [ValueType?]
    /// The graph nodes this step runs for (fused patterns name several).
    let sources: [String]
}

/// Plans one graph (the main graph or a subgraph) into steps, then assigns memory in its own
/// arena. Values are either constants (initializers and everything computable at plan time)
/// or arena buffers.
final class GraphPlanner {
    let graph: Graph
    let arenaIndex: Int
    let registry: OpRegistry
    let kernels: KernelTable
    let pool: ConstantPool
    let arenaCounter: ArenaCounter
    /// Intra-op threads of the plan's sessions: kernels that split their work size per-thread
    /// workspaces by it.
    let threads: Int
    /// Types and plan-time constants of the enclosing graphs, for subgraph captures.
    let outerTypes: [String: ValueType]
    let outerConstants: [String: Tensor]

    var types: [String: ValueType] = [:]
    var constants: [String: Tensor] = [:]
    var steps: [PendingStep] = []
    var problems: [RuntimeError.NodeProblem] = []
    /// Nodes made by fusing others (`PassReport.fusedFrom`): their steps name those sources.
    var fusedFrom: [String: [String]] = [:]
    /// Values whose producer failed to plan; their readers are skipped, not reported again.
    var poisoned: Set<String> = []
    /// Folding a node at plan time is skipped above this many output bytes.
    static let maxFoldBytes = 64 << 20
    /// No single value or workspace may exceed this (a corrupt shape must not reach malloc).
    static let maxValueBytes = 1 << 34

    init(
        graph: Graph, arenaIndex: Int, registry: OpRegistry, kernels: KernelTable, pool: ConstantPool,
        arenaCounter: ArenaCounter, inputTypes: [String: ValueType], threads: Int = 1, outerTypes: [String: ValueType] = [:],
        outerConstants: [String: Tensor] = [:]
    ) {
        self.threads = max(threads, 1)
        self.graph = graph
        self.arenaIndex = arenaIndex
        self.registry = registry
        self.kernels = kernels
        self.pool = pool
        self.arenaCounter = arenaCounter
        self.outerTypes = outerTypes
        self.outerConstants = outerConstants
        types = inputTypes
        for (name, t) in graph.initializers where inputTypes[name] == nil {
            constants[name] = t
            types[name] = ValueType(t.elementType, t.shape)
        }
        // Pre-packed weights are constants only the op they were packed for can read (int8
        // GEMMs, docs/int8-runtime.md; fp32 Gemm/MatMul, docs/model-format.md).
        for (name, w) in pool.packedWeights.provided where types[name] == nil { types[name] = ValueType(w.elementType, w.shape) }
    }

    func type(of name: String) -> ValueType? { types[name] ?? outerTypes[name] }
    func constant(of name: String) -> Tensor? {
        if types[name] != nil { return constants[name] }
        return outerConstants[name]
    }

    /// Plans every node; problems are collected, not thrown, so one plan reports them all.
    func planNodes() {
        var readers: [String: Int] = [:]
        for n in graph.nodes {
            for i in n.inputs where !i.isEmpty { readers[i, default: 0] += 1 }
            for g in n.subgraphs { for v in g.capturedValues { readers[v, default: 0] += 1 } }
        }
        let outputs = Set(graph.outputs.map(\.name))
        var skip: Set<Int> = []
        for (k, node) in graph.nodes.enumerated() where !skip.contains(k) {
            if let (gemm, add) = fusedMatMulBias(k, readers: readers, graphOutputs: outputs) {
                skip.insert(add)
                planNode(
                    gemm, sources: (fusedFrom[node.name] ?? [node.name]) + (fusedFrom[graph.nodes[add].name] ?? [graph.nodes[add].name]))
            } else {
                planNode(node)
            }
        }
    }

    /// MatMul(A, B) followed by Add(·, bias) — what exporters emit for a Linear layer — plans as
    /// one Gemm(A, B, bias) when A is 2-D, B a constant 2-D matrix, bias a constant [N] or
    /// [1, N], the Add is the product's only reader and the product is not a graph output. The
    /// GEMM then starts each row from the bias instead of a second pass adding it (the sum is
    /// rounded in a different order: within float tolerance, not bit-identical). Returns the
    /// Gemm node (named after the MatMul, carrying the Add's outputs and fused activation) and
    /// the Add's index.
    private func fusedMatMulBias(_ k: Int, readers: [String: Int], graphOutputs: Set<String>) -> (Node, Int)? {
        let mm = graph.nodes[k]
        guard mm.domain.isEmpty, mm.opType == "MatMul", mm.fusedActivation == nil, mm.inputs.count == 2, mm.outputs.count == 1,
            k + 1 < graph.nodes.count, let product = mm.outputs.first, !product.isEmpty, readers[product] == 1,
            !graphOutputs.contains(product), type(of: mm.inputs[0])?.rank == 2,
            let b = constant(of: mm.inputs[1]), b.rank == 2, b.elementType == .float32
        else { return nil }
        let add = graph.nodes[k + 1]
        guard add.domain.isEmpty, add.opType == "Add", add.inputs.count == 2, add.inputs.contains(product),
            let biasName = add.inputs.first(where: { $0 != product }), let bias = constant(of: biasName), bias.elementType == .float32,
            bias.shape == [b.shape[1]] || bias.shape == [1, b.shape[1]]
        else { return nil }
        let gemm = Node(
            name: mm.name, opType: "Gemm", inputs: [mm.inputs[0], mm.inputs[1], biasName], outputs: add.outputs,
            fusedActivation: add.fusedActivation)
        return (gemm, k + 1)
    }

    private func planNode(_ node: Node, sources: [String]? = nil) {
        let used = node.inputs.filter { !$0.isEmpty }
        // A subgraph that captures a failed value is not planned either (its nodes would only
        // report the value as undefined).
        if used.contains(where: { poisoned.contains($0) })
            || node.subgraphs.contains(where: { !$0.capturedValues.isDisjoint(with: poisoned) })
        {
            poison(node)
            return
        }
        guard let fn = registry.lookup(node.domain, node.opType) else {
            problems.append(
                .init(
                    node: node.name, opType: node.qualifiedOpType,
                    detail: "op is not supported by the fp32 runtime (see docs/runtime.md for the op table)",
                    kind: .unsupportedOp))
            poison(node)
            return
        }
        var inputTypes: [ValueType?] = []
        var inputConstants: [Tensor?] = []
        for name in node.inputs {
            if name.isEmpty {
                inputTypes.append(nil)
                inputConstants.append(nil)
                continue
            }
            guard let t = type(of: name) else {
                problems.append(
                    .init(
                        node: node.name, opType: node.qualifiedOpType,
                        detail: "reads '\(name)', which no graph input, initializer or earlier node defines"))
                poison(node)
                return
            }
            inputTypes.append(t)
            inputConstants.append(constant(of: name))
        }
        // Only nodes with subgraphs need the whole scope (merging it per node would be quadratic).
        var subplanner: ((Graph) throws -> SubgraphProgram)?
        if !node.subgraphs.isEmpty {
            let scopeTypes = outerTypes.merging(types) { _, inner in inner }
            let scopeConstants = outerConstants.merging(constants) { _, inner in inner }
            subplanner = { [registry, kernels, pool, arenaCounter, threads] g in
                try SubgraphProgram.plan(
                    g, registry: registry, kernels: kernels, pool: pool, arenaCounter: arenaCounter, threads: threads,
                    outerTypes: scopeTypes, outerConstants: scopeConstants)
            }
        }
        let ctx = NodePlanContext(
            node: node, inputTypes: inputTypes, constants: inputConstants, kernels: kernels,
            pool: pool, threads: threads, subgraphPlanner: subplanner)
        do {
            let planned = try fn(ctx)
            switch planned {
            case .constants(let values):
                try record(node, constants: values)
            case .kernel(let outs, let ws, let make):
                let named = node.outputs.lastIndex(where: { !$0.isEmpty }).map { $0 + 1 } ?? 0
                guard outs.count >= named else {
                    throw ctx.fail("the op has \(outs.count) outputs but the node names \(named); remove the extra outputs")
                }
                for (k, t) in outs.enumerated() {
                    guard let count = Shape.checkedProduct(t.shape),
                        case let (bytes, overflow) = count.multipliedReportingOverflow(by: t.elementType.byteSize ?? 1),
                        !overflow, bytes <= Self.maxValueBytes
                    else { throw ctx.fail("output \(k) would be \(t) — larger than \(Self.maxValueBytes) bytes") }
                }
                guard ws >= 0, ws <= Self.maxValueBytes else { throw ctx.fail("needs \(ws) bytes of workspace") }
                let make = Self.withFusedActivation(node, make)
                let allConstant = used.allSatisfy { constant(of: $0) != nil }
                if allConstant, node.subgraphs.isEmpty, outs.reduce(0, { $0 + $1.byteCount }) <= Self.maxFoldBytes {
                    let values = try ConstantFolder.run(
                        node: node, inputs: inputConstants, outputs: outs,
                        workspaceBytes: ws, make: make)
                    try record(node, constants: values)
                } else {
                    for (name, t) in zip(node.outputs, outs) where !name.isEmpty { types[name] = t }
                    var reads = used
                    for g in node.subgraphs { reads += g.capturedValues.sorted() }
                    steps.append(
                        PendingStep(
                            node: node, outputs: outs, workspaceBytes: ws, make: make, reads: reads, inputs: inputTypes,
                            sources: sources ?? fusedFrom[node.name] ?? [node.name]))
                }
            }
        } catch let RuntimeError.planFailed(ps) {
            problems += ps
            poison(node)
        } catch {
            problems.append(.init(node: node.name, opType: node.qualifiedOpType, detail: "\(error)"))
            poison(node)
        }
    }

    private func record(_ node: Node, constants values: [Tensor]) throws {
        guard values.count >= node.outputs.filter({ !$0.isEmpty }).count else {
            throw RuntimeError.planFailed([
                .init(
                    node: node.name, opType: node.qualifiedOpType,
                    detail: "produced \(values.count) values for \(node.outputs.count) outputs")
            ])
        }
        for (name, t) in zip(node.outputs, values) where !name.isEmpty {
            constants[name] = t
            types[name] = ValueType(t.elementType, t.shape)
        }
    }

    private func poison(_ node: Node) {
        for o in node.outputs where !o.isEmpty { poisoned.insert(o) }
    }

    /// Ops that apply `node.fusedActivation` inside their kernel (the GEMM clamp or their own
    /// epilogue); any other op gets a post-pass over output 0.
    /// Keyed by `qualifiedOpType`; the int8 ops turn Relu/Clip into their output clamp.
    static let fusingOps: Set<String> = [
        "Conv", "ConvTranspose", "Gemm", "MatMul", "QLinearConv", "com.microsoft:QLinearConv", "QLinearMatMul", "com.microsoft:QGemm",
        "com.microsoft:QLinearAdd", "com.microsoft:QLinearMul",
    ]

    static func withFusedActivation(_ node: Node, _ make: @escaping (KernelBuffers) throws -> any Kernel)
        -> (KernelBuffers) throws -> any Kernel
    {
        guard let act = node.fusedActivation, !fusingOps.contains(node.qualifiedOpType) else { return make }
        return { buffers in
            ActivationPostKernel(inner: try make(buffers), activation: act, output: buffers.outputs[0])
        }
    }
}

/// Hands out arena indices: 0 for the main graph, one more per planned subgraph.
final class ArenaCounter: @unchecked Sendable {
    // Sendable proof: used only while a plan is built, on the planning thread.
    private(set) var sizes: [Int] = []
    func next() -> Int {
        sizes.append(0)
        return sizes.count - 1
    }
    func setSize(_ index: Int, _ bytes: Int) { sizes[index] = bytes }
}
