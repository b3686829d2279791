import ModelIR

/// Convolution, pooling, matrix products, normalization, attention, detection and recurrent ops.
extension OpRegistry {
    mutating func registerNN() {
        for op in [
            "Conv", "ConvTranspose", "Gemm", "MatMul", "MaxPool", "AveragePool", "GlobalAveragePool",
            "GlobalMaxPool", "InstanceNormalization", "LSTM", "GRU", "RNN", "LRN", "LpNormalization",
            // LpPool/GlobalLpPool-1 had a float `p`; from 2 it is an int (opset < 7 is not read).
            "LpPool", "GlobalLpPool",
        ] {
            onnx(op)
        }
        onnx("MeanVarianceNormalization", since: 9)
        onnx("MaxUnpool", since: 9)
        onnx("NonMaxSuppression", since: 10)
        onnx("RoiAlign", since: 10) { u in
            // RoiAlign-10 did not shift by half a pixel; 16 added the mode with default half_pixel.
            if u.opset < 16 && u.node.attributes["coordinate_transformation_mode"] == nil {
                u.node.attributes["coordinate_transformation_mode"] = .string("output_half_pixel")
            }
        }
        onnx("NegativeLogLikelihoodLoss", since: 12)
        onnx("SoftmaxCrossEntropyLoss", since: 12)
        onnx("GridSample", since: 16) { u in
            // 20 renamed the modes (and generalized to N-D); the computation is the same.
            guard u.opset < 20, let mode = u.node.string("mode") else { return }
            let renamed = ["bilinear": "linear", "bicubic": "cubic"]
            u.node.attributes["mode"] = .string(renamed[mode] ?? mode)
        }
        onnx("LayerNormalization", since: 17)
        onnx("Col2Im", since: 18)
        onnx("GroupNormalization", since: 18) { u in try Self.perChannelGroupNorm(&u) }
        onnx("DeformConv", since: 19)
        onnx("AffineGrid", since: 20)
        for op in ["RMSNormalization", "Attention", "RotaryEmbedding"] { onnx(op, since: 23) }
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

    /// GroupNormalization-18 takes scale and bias per group ([G]); 21 takes them per channel
    /// ([C]). Each group value is repeated for the group's C/G channels:
    /// Reshape(Expand(Unsqueeze(s, [1]), [G, C/G]), [-1]), with C read from Shape(X) so a
    /// symbolic channel count still works; constant folding removes it all for constant inputs.
    static func perChannelGroupNorm(_ u: inout UpgradeContext) throws {
        guard u.opset < 21 else { return }
        guard let groups = u.node.int("num_groups"), groups > 0 else {
            throw u.fail("num_groups", "GroupNormalization needs a positive num_groups")
        }
        guard let x = u.node.input(0), u.node.input(1) != nil, u.node.input(2) != nil else {
            throw ONNXImportError.invalidNode(node: u.node.name, detail: "GroupNormalization needs inputs X, scale and bias")
        }
        let base = u.node.name
        let g = u.constant(Tensor.vector([Int64(groups)]), "groups")
        let one = u.constant(Tensor.vector([Int64(1)]), "axis1")
        let flat = u.constant(Tensor.vector([Int64(-1)]), "flat")
        let channels = u.names.fresh("\(base)_channels")
        let perGroup = u.names.fresh("\(base)_per_group")
        let target = u.names.fresh("\(base)_group_shape")
        u.prelude += [
            Node(
                name: u.names.nodeName("\(base)_channels"), opType: "Shape", inputs: [x], outputs: [channels],
                attributes: ["start": .int(1), "end": .int(2)]),
            Node(name: u.names.nodeName("\(base)_per_group"), opType: "Div", inputs: [channels, g], outputs: [perGroup]),
            Node(
                name: u.names.nodeName("\(base)_group_shape"), opType: "Concat", inputs: [g, perGroup], outputs: [target],
                attributes: ["axis": .int(0)]),
        ]
        for (index, label) in [(1, "scale"), (2, "bias")] {
            let column = u.names.fresh("\(base)_\(label)_column")
            let expanded = u.names.fresh("\(base)_\(label)_expanded")
            let perChannel = u.names.fresh("\(base)_\(label)_per_channel")
            u.prelude += [
                Node(
                    name: u.names.nodeName("\(base)_\(label)_column"), opType: "Unsqueeze", inputs: [u.node.inputs[index], one],
                    outputs: [column]),
                Node(name: u.names.nodeName("\(base)_\(label)_expand"), opType: "Expand", inputs: [column, target], outputs: [expanded]),
                Node(
                    name: u.names.nodeName("\(base)_\(label)_reshape"), opType: "Reshape", inputs: [expanded, flat], outputs: [perChannel]),
            ]
            u.node.inputs[index] = perChannel
        }
    }
}
