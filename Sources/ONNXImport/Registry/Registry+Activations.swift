import ModelIR

/// Activation functions. Their attributes (alpha, gamma, lambd...) mean the same in every opset
/// Flotilla reads, so none needs a rewrite; the `since` values are the opsets they appeared in.
extension OpRegistry {
    mutating func registerActivations() {
        // Elu/Selu/HardSigmoid/LeakyRelu-1 carried consumed_inputs, gone by opset 6.
        for op in ["Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "Tanh", "Elu", "Selu", "Softplus", "Softsign"] {
            onnx(op)
        }
        onnx("Shrink", since: 9)
        onnx("ThresholdedRelu", since: 10)
        onnx("Celu", since: 12)
        onnx("HardSwish", since: 14)
        onnx("Mish", since: 18)
        onnx("Gelu", since: 20) { u in
            let mode = u.node.string("approximate") ?? "none"
            guard mode == "none" || mode == "tanh" else { throw u.fail("approximate", "'\(mode)' is not \"none\" or \"tanh\"") }
        }
        onnx("Swish", since: 24)
    }
}
