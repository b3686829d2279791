import ModelIR

/// If: both branches are planned (each in its own arena); the condition picks one at run time
/// and its outputs are copied to the node's outputs. Both branches must produce the same
/// types, since the memory plan is static — unless the condition is known at plan time.
extension OpRegistry {
    mutating func registerControlFlow() {
        register("If") { ctx in
            let cond = try ctx.input(0, [.bool])
            guard cond.elementCount == 1 else { throw ctx.fail("cond must hold one bool, got shape \(cond.shape)") }
            guard let thenGraph = ctx.node.attributes["then_branch"]?.graphValue,
                let elseGraph = ctx.node.attributes["else_branch"]?.graphValue,
                let planSub = ctx.subgraphPlanner
            else { throw ctx.fail("If needs then_branch and else_branch graph attributes") }
            // A condition known at plan time (exporters' rank and shape checks) plans only the
            // taken branch, which may then produce other shapes than the untaken one would, and
            // folds to constants when the branch does.
            if let c = ctx.constant(0), let flag = c.asInt64s?.first {
                let taken = try planSub(flag != 0 ? thenGraph : elseGraph)
                let types = try taken.outputTypes()
                guard types.count >= ctx.outputCount() else {
                    throw ctx.fail("the taken branch produces \(types.count) outputs; the node names \(ctx.outputCount())")
                }
                if let values = taken.constantOutputs() { return .constants(values) }
                return .kernel(outputs: types, workspaceBytes: 0) { b in
                    let program = try taken.finalize(outer: b.scope)
                    return IfKernel(cond: b.input(0), then: program, else: program, outputs: b.outputs)
                }
            }
            let thenProgram = try planSub(thenGraph)
            let elseProgram = try planSub(elseGraph)
            let thenTypes = try thenProgram.outputTypes()
            let elseTypes = try elseProgram.outputTypes()
            guard thenTypes == elseTypes, thenTypes.count >= ctx.outputCount() else {
                throw ctx.fail(
                    "the branches produce \(thenTypes) and \(elseTypes); the static planner needs both branches "
                        + "to produce the same types and shapes (\(ctx.outputCount()) outputs), or a condition known at plan time",
                    .dataDependentShape(value: ctx.node.inputs[0]))
            }
            return .kernel(outputs: thenTypes, workspaceBytes: 0) { b in
                IfKernel(
                    cond: b.input(0), then: try thenProgram.finalize(outer: b.scope),
                    else: try elseProgram.finalize(outer: b.scope), outputs: b.outputs)
            }
        }
    }
}

final class IfKernel: Kernel {
    let cond: Buffer
    let thenProgram: Program
    let elseProgram: Program
    let outputs: [Buffer]

    init(cond: Buffer, then: Program, else: Program, outputs: [Buffer]) {
        self.cond = cond
        thenProgram = then
        elseProgram = `else`
        self.outputs = outputs
    }

    func execute(_ memory: Memory) throws {
        let branch = memory.typed(cond, UInt8.self)[0] != 0 ? thenProgram : elseProgram
        try branch.execute(memory)
        for (dst, src) in zip(outputs, branch.outputs) where dst.bytes > 0 {
            memory.raw(dst).copyMemory(from: memory.raw(src.buffer), byteCount: dst.bytes)
        }
    }
}
