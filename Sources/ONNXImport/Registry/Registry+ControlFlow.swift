import ModelIR

/// Control flow. If's branches are imported (and their nodes upgraded) as subgraphs when the
/// attribute is read, so the node itself needs no rewrite.
extension OpRegistry {
    mutating func registerControlFlow() {
        onnx("If") { u in
            guard u.node.attributes["then_branch"]?.graphValue != nil, u.node.attributes["else_branch"]?.graphValue != nil else {
                throw u.fail("then_branch", "If needs then_branch and else_branch graphs")
            }
        }
    }
}
