import ModelIR

/// One executable step of a program.
struct ProgramStep: Sendable {
    let kernel: any Kernel
    let node: String
    let opType: String
    let outputs: [ValueType]
    let inputs: [ValueType?]
    let attributes: [String: Attribute]
    let sources: [String]
}

/// A value at a program boundary (graph input or output) and where it lives.
struct BoundaryValue: Sendable {
    let name: String
    let type: ValueType
    let buffer: Buffer
    /// An input read in place: `buffer` is at offset 0 of an arena of its own whose base the
    /// session points at the caller's tensor for the run (`GraphPlanner.readsInPlace`).
    var inPlace = false
}

/// A planned graph with memory assigned: its steps, where inputs go and outputs come from.
struct Program: Sendable {
    let arenaIndex: Int
    let steps: [ProgramStep]
    let inputs: [BoundaryValue]
    let outputs: [BoundaryValue]
    let memory: MemoryPlan

    /// Runs the steps in order. No allocation: the loop reads an array and calls kernels.
    func execute(_ memory: Memory) throws {
        for step in steps { try run(step, memory) }
    }

    /// Runs the steps in order and writes each step's nanoseconds to `times[i]`.
    func execute(_ memory: Memory, times: UnsafeMutableBufferPointer<UInt64>) throws {
        for (i, step) in steps.enumerated() {
            let start = monotonicNanoseconds()
            try run(step, memory)
            times[i] = monotonicNanoseconds() &- start
        }
    }

    @inline(__always)
    private func run(_ step: ProgramStep, _ memory: Memory) throws {
        do {
            try step.kernel.execute(memory)
        } catch let e as RuntimeError {
            throw e
        } catch {
            throw RuntimeError.executionFailed(node: step.node, opType: step.opType, detail: "\(error)")
        }
    }
}

extension GraphPlanner {
    /// Ops whose output is their input's bytes under another shape. Dropout qualifies only
    /// without its mask output.
    static let aliasingOps: Set<String> = ["Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"]

    /// Ops that may read a graph input where the caller's tensor lies instead of an arena copy:
    /// they only read their input 0, never past its last element, with no alignment beyond the
    /// element's. QuantizeLinear is the first step of every QDQ model.
    static let inPlaceReaders: Set<String> = ["QuantizeLinear"]

    /// Graph inputs of the main graph whose every reader is an `inPlaceReaders` op reading it
    /// as input 0 (not a graph output, no view, no subgraph capture): the session binds them
    /// instead of copying them into the arena.
    func readsInPlace() -> Set<String> {
        guard arenaIndex == 0 else { return [] }
        let outputNames = Set(graph.outputs.map(\.name))
        var result: Set<String> = []
        for i in graph.inputs where constants[i.name] == nil && types[i.name] != nil && !outputNames.contains(i.name) {
            let readers = steps.filter { $0.reads.contains(i.name) }
            guard !readers.isEmpty else { continue }
            let ok = readers.allSatisfy { s in
                s.node.domain.isEmpty && Self.inPlaceReaders.contains(s.node.opType) && s.node.subgraphs.isEmpty
                    && s.node.inputs.enumerated().allSatisfy { k, v in v != i.name || k == 0 }
            }
            if ok { result.insert(i.name) }
        }
        return result
    }

    static func aliases(_ step: PendingStep) -> Bool {
        let n = step.node
        guard n.domain.isEmpty, aliasingOps.contains(n.opType), n.fusedActivation == nil, let first = n.outputs.first, !first.isEmpty,
            n.input(0) != nil
        else { return false }
        return !n.outputs.dropFirst().contains { !$0.isEmpty }
    }

    /// Assigns arena offsets (greedy by size) and builds the kernels. `outer` resolves values
    /// of enclosing graphs that this graph's steps capture.
    func finalize(outer: [String: Buffer] = [:]) throws -> Program {
        let end = steps.count
        var requests: [MemoryPlan.Request] = []
        var firstStep: [String: Int] = [:]
        var lastStep: [String: Int] = [:]
        var order: [String] = []
        let outputNames = Set(graph.outputs.map(\.name))
        let inPlace = readsInPlace()
        for i in graph.inputs where constants[i.name] == nil && types[i.name] != nil && !inPlace.contains(i.name) {
            firstStep[i.name] = 0
            lastStep[i.name] = outputNames.contains(i.name) ? end : 0
            order.append(i.name)
        }
        for (s, step) in steps.enumerated() {
            for name in step.reads where firstStep[name] != nil { lastStep[name] = max(lastStep[name] ?? s, s) }
            for name in step.node.outputs where !name.isEmpty {
                firstStep[name] = s
                lastStep[name] = outputNames.contains(name) ? end : s
                order.append(name)
            }
        }
        // Reshape-like steps alias their input (same bytes, new shape): no copy and no buffer of
        // their own; the root buffer lives as long as any of its aliases.
        var root: [String: String] = [:]
        var skipped: Set<Int> = []
        for (s, step) in steps.enumerated() where Self.aliases(step) {
            let src = step.node.inputs[0], out = step.node.outputs[0]
            let r = root[src] ?? src
            guard firstStep[src] != nil, let f = firstStep[out], let l = lastStep[out] else { continue }
            root[out] = r
            skipped.insert(s)
            firstStep[r] = min(firstStep[r] ?? f, f)
            lastStep[r] = max(lastStep[r] ?? l, l)
        }
        for name in order where root[name] == nil {
            guard let t = types[name], let f = firstStep[name], let l = lastStep[name] else { continue }
            requests.append(.init(name: name, bytes: t.byteCount, firstStep: f, lastStep: l))
        }
        for (s, step) in steps.enumerated() {
            if step.workspaceBytes > 0 {
                requests.append(.init(name: "\(step.node.name)#workspace", bytes: step.workspaceBytes, firstStep: s, lastStep: s))
            }
            // Outputs the node omits still get scratch for the step: kernels write every output.
            for (k, t) in step.outputs.enumerated() where k >= step.node.outputs.count || step.node.outputs[k].isEmpty {
                requests.append(.init(name: "\(step.node.name)#output\(k)", bytes: t.byteCount, firstStep: s, lastStep: s))
            }
        }
        let plan = MemoryPlan(requests: requests)
        arenaCounter.setSize(arenaIndex, plan.peakBytes)
        var buffers: [String: Buffer] = [:]
        for (r, offset) in zip(plan.requests, plan.offsets) {
            buffers[r.name] = .arena(arenaIndex, offset: offset, bytes: r.bytes)
        }
        for (alias, r) in root { buffers[alias] = buffers[r] }
        for name in inPlace.sorted() {
            guard let t = types[name] else { continue }
            buffers[name] = .arena(arenaCounter.next(), offset: 0, bytes: t.byteCount)
        }
        var constantBuffers: [String: Buffer] = [:]
        let pool = self.pool
        func resolve(_ name: String) -> Buffer? {
            if let b = buffers[name] { return b }
            if let t = constant(of: name) {
                if let b = constantBuffers[name] { return b }
                // A mapped artifact's tensor is read where it lies (kernels never write a
                // constant's buffer); anything else is copied into the pool.
                let p = pool.borrow(t.storage).map { UnsafeMutableRawPointer(mutating: $0) } ?? pool.store(t)
                let b = Buffer.constant(p, bytes: t.byteCount)
                constantBuffers[name] = b
                return b
            }
            return outer[name]
        }
        var program: [ProgramStep] = []
        for (s, step) in steps.enumerated() where !skipped.contains(s) {
            let names = step.node.inputs
            // Every input must have a home before a kernel may hold on to it.
            // Pre-packed weights have no buffer: only the op they were packed for reads them.
            if let lost = names.first(where: {
                !$0.isEmpty && buffers[$0] == nil && constant(of: $0) == nil && outer[$0] == nil
                    && pool.packedWeights.provided[$0] == nil
            }) {
                throw RuntimeError.invalidModel("node '\(step.node.name)' reads '\(lost)', which has no buffer in graph '\(graph.name)'")
            }
            let outputs = step.outputs.indices.map { k in
                let name =
                    k < step.node.outputs.count && !step.node.outputs[k].isEmpty ? step.node.outputs[k] : "\(step.node.name)#output\(k)"
                return buffers[name] ?? .none
            }
            var scope: [String: Buffer] = [:]
            if !step.node.subgraphs.isEmpty {
                for name in step.reads { scope[name] = resolve(name) }
            }
            let kb = KernelBuffers(
                resolve: { i in i < names.count && !names[i].isEmpty ? resolve(names[i]) : nil }, outputs: outputs,
                workspace: buffers["\(step.node.name)#workspace"] ?? .none, scope: scope)
            program.append(
                ProgramStep(
                    kernel: try step.make(kb), node: step.node.name, opType: step.node.qualifiedOpType, outputs: step.outputs,
                    inputs: step.inputs, attributes: step.node.attributes.filter { $0.value.isScalarOrList }, sources: step.sources))
        }
        var inputs: [BoundaryValue] = []
        for i in graph.inputs {
            guard let t = types[i.name], let b = buffers[i.name] else { continue }
            inputs.append(BoundaryValue(name: i.name, type: t, buffer: b, inPlace: inPlace.contains(i.name)))
        }
        var outputs: [BoundaryValue] = []
        for o in graph.outputs {
            guard let t = type(of: o.name), let b = resolve(o.name) else {
                throw RuntimeError.invalidModel("graph '\(graph.name)' output '\(o.name)' is never produced")
            }
            outputs.append(BoundaryValue(name: o.name, type: t, buffer: b))
        }
        return Program(arenaIndex: arenaIndex, steps: program, inputs: inputs, outputs: outputs, memory: plan)
    }
}

extension Attribute {
    /// Numbers and strings: what a step keeps of its node's attributes for profiles. Tensors
    /// and subgraphs are left out so a plan does not hold a second copy of them.
    fileprivate var isScalarOrList: Bool {
        switch self {
        case .int, .float, .string, .ints, .floats, .strings: return true
        case .tensor, .graph, .tensors, .graphs: return false
        }
    }
}
