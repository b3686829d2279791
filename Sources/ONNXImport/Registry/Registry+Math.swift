import ModelIR

/// Elementwise math, comparisons, logical and bitwise ops, reductions, softmax family.
extension OpRegistry {
    mutating func registerMath() {
        for op in [
            "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Min", "Max",
            "Floor", "Ceil", "Equal", "Greater", "Less", "Identity", "ArgMax", "ArgMin",
            // Logical ops: before 7 they took broadcast/axis attributes (opset < 7 is not read).
            "And", "Or", "Xor", "Not",
            // Sum/Mean-6 required equal shapes; 8 broadcasts, a superset.
            "Sum", "Mean",
            "Sin", "Cos", "Tan", "Asin", "Acos", "Atan",
        ] {
            onnx(op)
        }
        for op in ["Erf", "Sign", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "IsNaN"] { onnx(op, since: 9) }
        onnx("Where", since: 9)
        onnx("Mod", since: 10)
        onnx("IsInf", since: 10)
        onnx("Round", since: 11)
        onnx("CumSum", since: 11)
        onnx("Det", since: 11)
        onnx("BitShift", since: 11) { u in
            guard let d = u.node.string("direction"), d == "LEFT" || d == "RIGHT" else {
                throw u.fail("direction", "BitShift needs direction \"LEFT\" or \"RIGHT\"")
            }
        }
        for op in ["GreaterOrEqual", "LessOrEqual"] { onnx(op, since: 12) }
        onnx("Einsum", since: 12) { u in
            guard u.node.string("equation") != nil else { throw u.fail("equation", "Einsum needs an equation string") }
        }
        onnx("CastLike", since: 15)
        for op in ["BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitwiseNot"] { onnx(op, since: 18) }
        onnx("CumProd", since: 26)
        onnx("Clip") { u in
            // Clip-6: min/max attributes (defaults ±FLT_MAX, i.e. no bound) → inputs (11+).
            guard u.opset < 11 else { return }
            try u.attributeToInput("min", at: 1, UpgradeContext.floatScalar)
            try u.attributeToInput("max", at: 2, UpgradeContext.floatScalar)
        }
        for op in ["Softmax", "LogSoftmax", "Hardmax"] {
            onnx(op) { u in try Self.coerced2D(&u) }
        }
        onnx("ReduceSum") { u in if u.opset < 13 { try u.attributeToInput("axes", at: 1, UpgradeContext.int64Vector) } }
        // The other reductions took `axes` as an attribute until 18.
        for op in [
            "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum",
            "ReduceLogSumExp",
        ] {
            onnx(op) { u in if u.opset < 18 { try u.attributeToInput("axes", at: 1, UpgradeContext.int64Vector) } }
        }
        onnx("Dropout") { u in
            // Dropout-7/10: ratio attribute → input 1 (12+); is_test never reaches opset 7.
            if u.opset < 12 { try u.attributeToInput("ratio", at: 1, UpgradeContext.floatScalar) }
        }
    }

    /// Softmax/LogSoftmax/Hardmax before opset 13 coerce the input to 2-D at `axis` (default 1)
    /// and normalize over everything after it — a different computation from 13+'s single axis.
    /// Represented faithfully as Flatten(axis) → Softmax(axis = -1) → Reshape(original shape).
    static func coerced2D(_ u: inout UpgradeContext) throws {
        guard u.opset < 13 else { return }
        guard let x = u.node.input(0), let y = u.node.outputs.first else {
            throw ONNXImportError.invalidNode(node: u.node.name, detail: "needs one input and one output")
        }
        let axis = u.node.int("axis") ?? 1
        let base = u.node.name
        let shape = u.names.fresh("\(base)_shape")
        let flat = u.names.fresh("\(base)_flat")
        let normalized = u.names.fresh("\(base)_2d")
        u.prelude.append(Node(name: u.names.nodeName("\(base)_shape"), opType: "Shape", inputs: [x], outputs: [shape]))
        u.prelude.append(
            Node(
                name: u.names.nodeName("\(base)_flatten"), opType: "Flatten", inputs: [x], outputs: [flat], attributes: ["axis": .int(axis)]
            ))
        u.node.inputs = [flat]
        u.node.outputs = [normalized]
        u.node.attributes["axis"] = .int(-1)
        u.postlude.append(Node(name: u.names.nodeName("\(base)_reshape"), opType: "Reshape", inputs: [normalized, shape], outputs: [y]))
    }
}
