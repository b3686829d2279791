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
                    "then_branch has \(thenBranch.outputs.count) outputs and else_branch \(elseBranch.outputs.count), but the node has \(ctx.node.outputs.count)"
                )
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

/// Loop and Scan: carried values take the body's output types; scan outputs stack the body's
/// per-iteration outputs along a new axis whose length is the trip count (Loop: the constant
/// M when no condition input can stop it early, else unknown) or the scanned axis (Scan).
extension ShapeInferenceRegistry {
    mutating func registerLoops() {
        register("Loop") { ctx in
            guard let body = ctx.node.attributes["body"]?.graphValue else { throw ctx.badAttribute("body", "Loop needs a body graph") }
            let carried = max(ctx.node.inputs.count - 2, 0)
            var trips: Dimension = ctx.unknown()
            if !ctx.hasInput(1), let m = ctx.constantInts(0)?.first, m >= 0 { trips = .fixed(m) }
            var result: [TensorType?] = []
            for k in ctx.node.outputs.indices {
                let bodyIndex = k + 1
                guard bodyIndex < body.outputs.count else {
                    result.append(nil)
                    continue
                }
                let inner = body.type(of: body.outputs[bodyIndex].name)
                if k < carried {
                    // The carried value's type is fixed by its initial value; its shape may change per iteration.
                    let initial = ctx.type(2 + k)
                    if let inner, let initial, inner.shape == initial.shape {
                        result.append(inner)
                    } else {
                        result.append((initial ?? inner).map { TensorType($0.elementType, nil) })
                    }
                } else {
                    result.append(inner.map { TensorType($0.elementType, $0.shape.map { Shape([trips] + $0.dims) }) })
                }
            }
            return result
        }
        register("Scan") { ctx in
            guard let body = ctx.node.attributes["body"]?.graphValue else { throw ctx.badAttribute("body", "Scan needs a body graph") }
            let scans = try ctx.boundedInt("num_scan_inputs", default: 0)
            let states = ctx.node.inputs.count - scans
            guard scans >= 1, states >= 0 else {
                throw ctx.badAttribute("num_scan_inputs", "\(scans) does not fit \(ctx.node.inputs.count) inputs")
            }
            var length: Dimension = ctx.unknown()
            if let first = ctx.shape(states) {
                let axis = try ctx.axis(ctx.node.ints("scan_input_axes")?.first ?? 0, rank: first.rank, attribute: "scan_input_axes")
                length = first[axis]
            }
            let outputAxes = ctx.node.ints("scan_output_axes") ?? []
            var result: [TensorType?] = []
            for k in ctx.node.outputs.indices {
                guard k < body.outputs.count, let inner = body.type(of: body.outputs[k].name) else {
                    result.append(nil)
                    continue
                }
                if k < states {
                    result.append(inner)
                    continue
                }
                guard var dims = inner.shape?.dims else {
                    result.append(TensorType(inner.elementType, nil))
                    continue
                }
                let j = k - states
                let axis = try ctx.axis(j < outputAxes.count ? outputAxes[j] : 0, rank: dims.count + 1, attribute: "scan_output_axes")
                dims.insert(length, at: axis)
                result.append(TensorType(inner.elementType, Shape(dims)))
            }
            return result
        }
    }
}
