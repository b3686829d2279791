import ModelIR

/// Control flow. Subgraphs (If's branches, Loop's and Scan's bodies) are imported, and their
/// nodes upgraded, when the attribute is read, so the nodes themselves need no rewrite.
extension OpRegistry {
    mutating func registerControlFlow() {
        onnx("If") { u in
            guard u.node.attributes["then_branch"]?.graphValue != nil, u.node.attributes["else_branch"]?.graphValue != nil else {
                throw u.fail("then_branch", "If needs then_branch and else_branch graphs")
            }
        }
        onnx("Loop") { u in
            guard let body = u.node.attributes["body"]?.graphValue else { throw u.fail("body", "Loop needs a body graph") }
            // body(iteration, cond, carried...) → (cond, carried..., scan outputs...)
            let carried = max(u.node.inputs.count - 2, 0)
            guard body.inputs.count == carried + 2, body.outputs.count >= carried + 1, u.node.outputs.count <= body.outputs.count - 1 else {
                throw u.fail(
                    "body",
                    "the body has \(body.inputs.count) inputs and \(body.outputs.count) outputs, but the node carries \(carried) "
                        + "values and has \(u.node.outputs.count) outputs; the body needs \(carried + 2) inputs and at least \(u.node.outputs.count + 1) outputs"
                )
            }
        }
        // Scan-8 took sequence_lens and a batch axis; 9 dropped both (not rewritten).
        onnx("Scan", since: 9) { u in
            guard let body = u.node.attributes["body"]?.graphValue else { throw u.fail("body", "Scan needs a body graph") }
            guard let scans = u.node.int("num_scan_inputs"), scans >= 1, scans <= u.node.inputs.count else {
                throw u.fail("num_scan_inputs", "must be between 1 and the number of inputs (\(u.node.inputs.count))")
            }
            guard body.inputs.count == u.node.inputs.count, u.node.outputs.count <= body.outputs.count else {
                throw u.fail(
                    "body",
                    "the body has \(body.inputs.count) inputs and \(body.outputs.count) outputs; the node has \(u.node.inputs.count) and \(u.node.outputs.count)"
                )
            }
        }
    }
}
