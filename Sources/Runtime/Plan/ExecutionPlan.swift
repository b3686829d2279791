import Foundation
public import ModelIR

/// A model planned for execution with every dimension bound: validated nodes, chosen kernels,
/// pre-packed weights, precomputed geometry and a static memory plan. Plan once, then run many
/// times through `Session`s.
///
/// A plan is immutable and may be shared between threads; each thread runs its own `Session`
/// (a session owns the arena and is not thread-safe).
public final class ExecutionPlan: Sendable {
    public struct Options: Sendable {
        /// The fp32 kernel path (packed weights are specific to it).
        public var kernels: KernelPath = .automatic
        /// Planning fails if a session would need more arena memory than this.
        public var maxArenaBytes: Int = 1 << 34
        /// Pre-packed weights by the initializer name they replace (an artifact's
        /// `packedWeights`): int8 GEMM weights, whose layout must belong to this plan's int8
        /// kernel path, and fp32 Gemm/MatMul right-hand matrices (`F32GemmPrepack`), read in
        /// place when packed for this plan's fp32 path, else repacked for it.
        public var packedWeights: [String: PackedTensor] = [:]
        /// Intra-op threads per session (the caller included): GEMMs split over output rows
        /// or columns, depthwise convolutions over channels. 1 runs everything on the calling
        /// thread. Results are bit-identical at any count.
        public var threads: Int = Options.defaultThreads
        /// Keep int8 activations channels-last (NHWC) between the convolutions the int8 path
        /// has NHWC kernels for (`ChannelsLastPass`). Outputs are bit-identical either way;
        /// false plans every conv NCHW (for comparison and diagnosis).
        public var channelsLast: Bool = true

        /// The CPUs this process may run on.
        public static var defaultThreads: Int { Swift.max(ProcessInfo.processInfo.activeProcessorCount, 1) }

        public init(
            kernels: KernelPath = .automatic, maxArenaBytes: Int = 1 << 34, packedWeights: [String: PackedTensor] = [:],
            threads: Int = Options.defaultThreads
        ) {
            self.kernels = kernels
            self.maxArenaBytes = maxArenaBytes
            self.packedWeights = packedWeights
            self.threads = threads
        }
    }

    /// The graph inputs a run must supply, with their bound types.
    public let inputs: [(name: String, type: ValueType)]
    /// Inputs a run reads where the caller's tensor lies, without copying them into the arena
    /// (read only by QuantizeLinear, as the first step of a QDQ model; `Session`).
    public var inPlaceInputs: [String] { program.inputs.filter(\.inPlace).map(\.name) }
    public let outputs: [(name: String, type: ValueType)]
    /// Bytes of the main arena: every intermediate, workspace, input and output copy.
    public let peakArenaBytes: Int
    /// What the arena would need without sharing (every buffer its own bytes), for comparison.
    public let naiveArenaBytes: Int
    /// Bytes of every arena a session allocates (main graph plus subgraphs).
    public let arenaSizes: [Int]
    /// Bytes held by the plan for constants and pre-packed weights.
    public let constantBytes: Int
    /// Bytes of provided pre-packed weights and constant tensors the kernels read in place, in
    /// the caller's storage (an mmap'd artifact), not copied into `constantBytes`.
    public var borrowedWeightBytes: Int { pool.borrowedBytes }
    /// Bytes of provided pre-packed weights that were copied (owned arrays, or regions not
    /// 64-byte aligned): 0 for an artifact opened from a file.
    public var copiedPackedWeightBytes: Int { pool.copiedPackedBytes }
    /// The kernel path in use ("reference", "avx2", "avx512").
    public let kernelPathName: String
    /// The int8 kernel path in use ("reference", "avx2", "avx512vnni", "neon", "neondot").
    public let int8KernelPathName: String
    /// The int8 weights this plan packed itself, by initializer name: what an artifact for a
    /// device on the same int8 path carries so the device skips packing.
    public var packedWeights: [String: PackedTensor] { pool.packedWeights.made }
    /// Intra-op threads each session runs with (`Options.threads`, at least 1).
    public let threads: Int
    /// Number of executed steps (nodes not folded at plan time).
    public var stepCount: Int { program.steps.count }
    /// The main graph's memory plan (buffer names, sizes, lifetimes, offsets).
    public var memoryPlan: MemoryPlan { program.memory }

    let program: Program
    let pool: ConstantPool

    /// Plans `model` (after the standard passes) with `bindings` for its symbolic input
    /// dimensions (e.g. `["N": 1]`). Throws `RuntimeError.planFailed` listing every node that
    /// cannot run (unsupported op or type, bad attributes, shape mismatch).
    public convenience init(model: Model, bindings: [String: Int] = [:], options: Options = Options()) throws {
        try self.init(graph: model.graph, bindings: bindings, options: options)
    }

    public convenience init(graph: Graph, bindings: [String: Int] = [:], options: Options = Options()) throws {
        try self.init(graph: graph, bindings: bindings, options: options, packOnly: nil)
    }

    /// `packOnly`: pack every int8 GEMM weight for that int8 path with its portable packer
    /// (`Q8GemmPrepack`), whatever path `options.kernels` runs; the plan is only read for its
    /// `packedWeights` and must never run.
    init(graph: Graph, bindings: [String: Int], options: Options, packOnly: String?) throws {
        guard let kernels = KernelTable(options.kernels) else {
            throw RuntimeError.invalidModel(
                "kernel path '\(options.kernels)' is unknown or this CPU cannot run it; "
                    + "use .automatic, .reference, or one of avx2/avx512 on a CPU that has it")
        }
        // QDQ patterns become int8 ops here, so every producer of a QDQ model gets the int8
        // kernels (docs/int8-runtime.md); QOperator and fp32 graphs pass through unchanged.
        var graph = graph
        let fusion = QDQFusion(externalConstants: options.packedWeights.mapValues { TensorType($0.elementType, Shape($0.shape)) })
            .fuse(&graph)
        do { try graph.sortTopologically() } catch { throw RuntimeError.invalidModel("\(error)") }
        if options.channelsLast {
            let initializers = graph.initializers, packed = options.packedWeights
            ChannelsLastPass(table: kernels.q8) { initializers[$0]?.shape ?? packed[$0]?.shape }.apply(&graph)
        }
        let inputTypes = try Self.bindInputs(graph, bindings)
        let pool = ConstantPool(packedWeights: options.packedWeights, packPath: packOnly)
        let counter = ArenaCounter()
        let planner = GraphPlanner(
            graph: graph, arenaIndex: counter.next(), registry: .standard, kernels: kernels,
            pool: pool, arenaCounter: counter, inputTypes: inputTypes, threads: options.threads)
        planner.fusedFrom = fusion.fusedFrom
        planner.planNodes()
        if !planner.problems.isEmpty { throw RuntimeError.planFailed(planner.problems) }
        let program = try planner.finalize()
        let total = counter.sizes.reduce(0, +)
        guard total <= options.maxArenaBytes else {
            throw RuntimeError.invalidModel(
                "the plan needs \(total) bytes of arena, over the limit of \(options.maxArenaBytes); "
                    + "bind a smaller batch or raise Options.maxArenaBytes")
        }
        self.program = program
        self.pool = pool
        inputs = program.inputs.map { ($0.name, $0.type) }
        outputs = program.outputs.map { ($0.name, $0.type) }
        peakArenaBytes = program.memory.peakBytes
        naiveArenaBytes = program.memory.naiveBytes
        arenaSizes = counter.sizes
        constantBytes = pool.totalBytes
        kernelPathName = kernels.name
        int8KernelPathName = kernels.int8Name
        threads = Swift.max(options.threads, 1)
    }

    /// One executed step of the main graph: the node it runs (after fusion: a Conv carrying a
    /// fused Relu is one step) and its op type.
    public struct StepInfo: Sendable, Equatable, CustomStringConvertible {
        public let node: String
        /// The op that runs, after fusion ("QLinearConv", "com.microsoft:QGemm", …).
        public let opType: String
        /// The types of the outputs the step writes (unnamed ones included).
        public let outputs: [ValueType]
        /// The bound types of the step's inputs, by input position (nil: omitted input).
        public let inputs: [ValueType?]
        /// The executed node's number and string attributes (after fusion; tensor and graph
        /// attributes are not kept).
        public let attributes: [String: Attribute]
        /// The nodes of the model this step runs for, in graph order: `[node]`, or for a fused
        /// pattern every node it replaced (a QDQ Conv: its DequantizeLinears, the Conv, a Relu,
        /// the QuantizeLinear).
        public let sources: [String]
        public var description: String { "\(opType) '\(node)' → \(outputs.map(\.description).joined(separator: ", "))" }
    }

    /// The main graph's steps in execution order (views and plan-time folded nodes have none).
    public var steps: [StepInfo] {
        program.steps.map {
            StepInfo(
                node: $0.node, opType: $0.opType, outputs: $0.outputs, inputs: $0.inputs, attributes: $0.attributes, sources: $0.sources)
        }
    }

    /// An empty per-step profile for `Session.run(inputs:outputs:profile:)`.
    public func makeProfile() -> StepProfile { StepProfile(steps: steps) }

    /// A new session (its own arena) for running this plan on one thread at a time.
    public func makeSession() -> Session { Session(plan: self) }

    /// Substitutes bindings into the graph inputs; every dimension must end up fixed.
    static func bindInputs(_ graph: Graph, _ bindings: [String: Int]) throws -> [String: ValueType] {
        var result: [String: ValueType] = [:]
        for (symbol, v) in bindings where v < 0 {
            throw RuntimeError.unboundDimension(value: symbol, shape: "\(v)", detail: "a dimension cannot be negative")
        }
        for input in graph.inputs {
            if graph.constant(input.name) != nil { continue }
            guard let shape = input.type.shape else {
                throw RuntimeError.unboundDimension(
                    value: input.name, shape: "[?]",
                    detail: "its rank is unknown; give the model a typed input")
            }
            let bound = shape.substituting(bindings)
            guard let dims = bound.concrete else {
                throw RuntimeError.unboundDimension(
                    value: input.name, shape: shape.description,
                    detail: "bind \(bound.symbols.joined(separator: ", ")) (e.g. bindings: [\"\(bound.symbols[0])\": 1])")
            }
            guard input.type.elementType.byteSize != nil else {
                throw RuntimeError.unboundDimension(
                    value: input.name, shape: shape.description,
                    detail: "\(input.type.elementType) inputs are not supported by the runtime")
            }
            guard let count = Shape.checkedProduct(dims),
                case let (bytes, overflow) = count.multipliedReportingOverflow(by: input.type.elementType.byteSize ?? 1),
                !overflow, bytes <= GraphPlanner.maxValueBytes
            else {
                throw RuntimeError.unboundDimension(value: input.name, shape: "\(dims)", detail: "the bound input is too large")
            }
            result[input.name] = ValueType(input.type.elementType, dims)
        }
        return result
    }
}

/// The ops this runtime implements, as "opType" or "domain:opType".
public enum RuntimeOps {
    public static var supported: [String] { OpRegistry.standard.supportedOps }
}
