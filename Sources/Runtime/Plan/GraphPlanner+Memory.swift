import ModelIR

/// One executable step of a program.
struct ProgramStep: Sendable {
    let kernel: any Kernel
    let node: String
    let opType: String
}

/// A value at a program boundary (graph input or output) and where it lives.
struct BoundaryValue: Sendable {
    let name: String
    let type: ValueType
    let buffer: Buffer
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
        for step in steps {
            do {
                try step.kernel.execute(memory)
            } catch let e as RuntimeError {
                throw e
            } catch {
                throw RuntimeError.executionFailed(node: step.node, opType: step.opType, detail: "\(error)")
            }
        }
    }
}

extension GraphPlanner {
    /// Assigns arena offsets (greedy by size) and builds the kernels. `outer` resolves values
    /// of enclosing graphs that this graph's steps capture.
    func finalize(outer: [String: Buffer] = [:]) throws -> Program {
        let end = steps.count
        var requests: [MemoryPlan.Request] = []
        var firstStep: [String: Int] = [:]
        var lastStep: [String: Int] = [:]
        var order: [String] = []
        let outputNames = Set(graph.outputs.map(\.name))
        for i in graph.inputs where constants[i.name] == nil && types[i.name] != nil {
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
        for name in order {
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
        var constantBuffers: [String: Buffer] = [:]
        let pool = self.pool
        func resolve(_ name: String) -> Buffer? {
            if let b = buffers[name] { return b }
            if let t = constant(of: name) {
                if let b = constantBuffers[name] { return b }
                let b = Buffer.constant(pool.store(t), bytes: t.byteCount)
                constantBuffers[name] = b
                return b
            }
            return outer[name]
        }
        var program: [ProgramStep] = []
        for step in steps {
            let names = step.node.inputs
            let outputs = step.outputs.indices.map { k in
                let name = k < step.node.outputs.count && !step.node.outputs[k].isEmpty ? step.node.outputs[k] : "\(step.node.name)#output\(k)"
                return buffers[name] ?? .none
            }
            var scope: [String: Buffer] = [:]
            if !step.node.subgraphs.isEmpty {
                for name in step.reads { scope[name] = resolve(name) }
            }
            let kb = KernelBuffers(resolve: { i in i < names.count && !names[i].isEmpty ? resolve(names[i]) : nil }, outputs: outputs,
                                   workspace: buffers["\(step.node.name)#workspace"] ?? .none, scope: scope)
            program.append(ProgramStep(kernel: try step.make(kb), node: step.node.name, opType: step.node.qualifiedOpType))
        }
        var inputs: [BoundaryValue] = []
        for i in graph.inputs {
            guard let t = types[i.name], let b = buffers[i.name] else { continue }
            inputs.append(BoundaryValue(name: i.name, type: t, buffer: b))
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
