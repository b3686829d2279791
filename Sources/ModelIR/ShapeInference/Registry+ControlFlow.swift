/// If: outputs typed from the branch graphs' outputs (already inferred, since the engine
/// infers subgraphs before their node).
extension ShapeInferenceRegistry {
    mutating func registerControlFlow() {
        register("If") { ctx in
            guard let thenBranch = ctx.node.attributes["then_branch"]?.graphValue,
                let elseBranch = ctx.node.attributes["else_branch"]?.graphValue
            else {
                throw ctx.badAttribute("then_branch", "If needs then_branch and else_branch graphs")
            }
            guard thenBranch.outputs.count == ctx.node.outputs.count, elseBranch.outputs.count == ctx.node.outputs.count else {
                throw ctx.mismatch(
                    "then_branch has \(thenBranch.outputs.count) outputs and else_branch \(elseBranch.outputs.count), but the node has \(ctx.node.outputs.count)")
            }
            var result: [TensorType?] = []
            for (a, b) in zip(thenBranch.outputs, elseBranch.outputs) {
                guard let ta = thenBranch.type(of: a.name), let tb = elseBranch.type(of: b.name) else {
                    result.append(nil)
                    continue
                }
                guard ta.elementType == tb.elementType else {
                    throw ctx.mismatch("branch outputs '\(a.name)' (\(ta)) and '\(b.name)' (\(tb)) have different element types")
                }
                // Branch shapes may differ: keep the dims they agree on.
                if let sa = ta.shape, let sb = tb.shape, sa.rank == sb.rank {
                    result.append(TensorType(ta.elementType, Shape(zip(sa.dims, sb.dims).map { $0 == $1 ? $0 : ctx.unknown() })))
                } else {
                    result.append(TensorType(ta.elementType, nil))
                }
            }
            return result
        }
    }
}
