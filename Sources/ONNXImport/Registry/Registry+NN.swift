import ModelIR

/// Convolution, pooling, matrix products, normalization, recurrent ops.
extension OpRegistry {
    mutating func registerNN() {
        for op in ["Conv", "ConvTranspose", "Gemm", "MatMul", "MaxPool", "AveragePool", "GlobalAveragePool",
                   "GlobalMaxPool", "InstanceNormalization", "LSTM", "GRU"] {
            onnx(op)
        }
        onnx("LayerNormalization", since: 17)
        onnx("BatchNormalization") { u in
            if u.opset < 9 {
                // spatial = 0 means per-activation statistics (scale of shape C×H×W…), which the
                // canonical op cannot express.
                if let spatial = u.node.attributes.removeValue(forKey: "spatial")?.intValue, spatial == 0 {
                    throw u.fail("spatial", "spatial = 0 (per-activation statistics) is not supported; re-export with spatial = 1")
                }
            }
            if u.opset < 14 {
                // Before 14 there is no training_mode: extra outputs are what marks training use.
                let extra = u.node.outputs.dropFirst().filter { !$0.isEmpty }
                if extra.isEmpty {
                    u.node.outputs = Array(u.node.outputs.prefix(1))
                } else {
                    u.node.outputs = Array(u.node.outputs.prefix(3))
                    u.node.attributes["training_mode"] = .int(1)
                }
            }
        }
    }
}
