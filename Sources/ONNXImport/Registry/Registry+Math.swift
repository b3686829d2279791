import ModelIR

/// Elementwise math, activations, comparisons, reductions.
extension OpRegistry {
    mutating func registerMath() {
        for op in ["Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Min", "Max",
                   "Floor", "Ceil", "Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "Tanh", "Equal", "Greater",
                   "Less", "Identity", "ArgMax"] {
            onnx(op)
        }
        onnx("Erf", since: 9)
        onnx("Where", since: 9)
        onnx("Round", since: 11)
        onnx("CumSum", since: 11)
        onnx("HardSwish", since: 14)
        onnx("Clip") { u in
            // Clip-6: min/max attributes (defaults ±FLT_MAX, i.e. no bound) → inputs (11+).
            guard u.opset < 11 else { return }
            try u.attributeToInput("min", at: 1, UpgradeContext.floatScalar)
            try u.attributeToInput("max", at: 2, UpgradeContext.floatScalar)
        }
        onnx("Softmax") { u in try Self.coerced2D(&u) }
        onnx("LogSoftmax") { u in try Self.coerced2D(&u) }
        onnx("ReduceSum") { u in if u.opset < 13 { try u.attributeToInput("axes", at: 1, UpgradeContext.int64Vector) } }
        for op in ["ReduceMean", "ReduceMax"] {
            onnx(op) { u in if u.opset < 18 { try u.attributeToInput("axes", at: 1, UpgradeContext.int64Vector) } }
        }
        onnx("Dropout") { u in
            // Dropout-7/10: ratio attribute → input 1 (12+); is_test never reaches opset 7.
            if u.opset < 12 { try u.attributeToInput("ratio", at: 1, UpgradeContext.floatScalar) }
        }
    }

    /// Softmax/LogSoftmax before opset 13 coerce the input to 2-D at `axis` (default 1) and
    /// normalize over everything after it — a different computation from 13+'s single axis.
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
        u.prelude.append(Node(name: u.names.nodeName("\(base)_flatten"), opType: "Flatten", inputs: [x], outputs: [flat], attributes: ["axis": .int(axis)]))
        u.node.inputs = [flat]
        u.node.outputs = [normalized]
        u.node.attributes["axis"] = .int(-1)
        u.postlude.append(Node(name: u.names.nodeName("\(base)_reshape"), opType: "Reshape", inputs: [normalized, shape], outputs: [y]))
    }
}
