import ModelIR

/// What an op's plan step decided for one node.
enum PlannedOp {
    /// The outputs are known at plan time (Shape, Constant, ConstantOfShape of a constant
    /// shape...): no step is emitted and readers see constants.
    case constants([Tensor])
    /// A step to run: the output types, the scratch memory it needs (placed in the arena, alive
    /// only during the step), and a factory that builds the kernel once buffers are assigned.
    case kernel(outputs: [ValueType], workspaceBytes: Int, make: (KernelBuffers) throws -> any Kernel)
}

/// The buffers the memory planner assigned to one step.
/// Inputs are resolved on demand: a constant input is copied into the constant pool only if
/// the kernel asks for it (Conv keeps its packed weights, not the raw ones).
struct KernelBuffers {
    private let resolve: (Int) -> Buffer?
    var outputs: [Buffer]
    var workspace: Buffer
    /// Buffers of every value a subgraph step captures.
    var scope: [String: Buffer] = [:]

    init(inputs: [Buffer?], outputs: [Buffer], workspace: Buffer, scope: [String: Buffer] = [:]) {
        self.init(resolve: { i in i < inputs.count ? inputs[i] : nil }, outputs: outputs, workspace: workspace, scope: scope)
    }

    init(resolve: @escaping (Int) -> Buffer?, outputs: [Buffer], workspace: Buffer, scope: [String: Buffer] = [:]) {
        self.resolve = resolve
        self.outputs = outputs
        self.workspace = workspace
        self.scope = scope
    }

    func input(_ i: Int) -> Buffer { resolve(i) ?? .none }
    func optionalInput(_ i: Int) -> Buffer? { resolve(i) }
}

/// An op implementation: a plan step (validate, compute output types, precompute, pack) that
/// returns the execute step.
typealias OpPlanFunction = @Sendable (NodePlanContext) throws -> PlannedOp

/// The runtime's op table by (domain, opType). Families register themselves in
/// `Ops/Op+<Family>.swift`; the int8 runtime will add its ops to the same table.
struct OpRegistry: Sendable {
    private var table: [String: OpPlanFunction] = [:]

    static func key(_ domain: String, _ opType: String) -> String { "\(domain)\u{1}\(opType)" }

    mutating func register(_ opType: String, domain: String = "", _ plan: @escaping OpPlanFunction) {
        table[Self.key(domain, opType)] = plan
    }

    func lookup(_ domain: String, _ opType: String) -> OpPlanFunction? {
        table[Self.key(domain == "ai.onnx" ? "" : domain, opType)]
    }

    /// Every registered op as "opType" or "domain:opType", sorted.
    var supportedOps: [String] {
        table.keys.map { k in
            let parts = k.split(separator: "\u{1}", omittingEmptySubsequences: false)
            return parts[0].isEmpty ? String(parts[1]) : "\(parts[0]):\(parts[1])"
        }.sorted()
    }

    static let standard: OpRegistry = {
        var r = OpRegistry()
        r.registerConvolution()
        r.registerMatrix()
        r.registerElementwise()
        r.registerMathExtras()
        r.registerScatter()
        r.registerLayout()
        r.registerBinary()
        r.registerPooling()
        r.registerNormalization()
        r.registerNormalizationExtras()
        r.registerSoftmax()
        r.registerShapeOps()
        r.registerDataMovement()
        r.registerIndexing()
        r.registerReductions()
        r.registerML()
        r.registerControlFlow()
        r.registerResize()
        r.registerConvTranspose()
        r.registerRecurrent()
        r.registerQuantized()
        return r
    }()
}
