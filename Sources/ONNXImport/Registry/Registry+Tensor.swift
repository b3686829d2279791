import ModelIR

/// Shape and data-movement ops, constants and casts.
extension OpRegistry {
    mutating func registerTensor() {
        for op in [
            "Flatten", "Reshape", "Transpose", "Concat", "Gather", "Shape", "Size", "Tile",
            // DepthToSpace-1 and SpaceToDepth before 28 had no mode: DCR, the default since.
            "DepthToSpace", "SpaceToDepth",
        ] {
            onnx(op)
        }
        onnx("Expand", since: 8)
        onnx("ConstantOfShape", since: 9)
        onnx("NonZero", since: 9)
        onnx("Compress", since: 9)
        onnx("EyeLike", since: 9) { u in try u.dataTypeAttribute("dtype") }
        onnx("ReverseSequence", since: 10)
        onnx("Range", since: 11)
        onnx("Unique", since: 11)
        onnx("Trilu", since: 14)
        onnx("CenterCropPad", since: 18)
        onnx("TensorScatter", since: 24)
        onnx("Squeeze") { u in if u.opset < 13 { try u.attributeToInput("axes", at: 1, UpgradeContext.int64Vector) } }
        onnx("Unsqueeze") { u in if u.opset < 13 { try u.attributeToInput("axes", at: 1, UpgradeContext.int64Vector) } }
        onnx("Split") { u in
            if u.opset < 13 { try u.attributeToInput("split", at: 1, UpgradeContext.int64Vector) }
            // Without sizes, 18+ needs num_outputs; earlier opsets split evenly by output count.
            if u.node.input(1) == nil && u.node.attributes["num_outputs"] == nil {
                u.node.attributes["num_outputs"] = .int(u.node.outputs.count)
            }
        }
        onnx("Slice") { u in
            guard u.opset < 10 else { return }
            guard u.node.attributes["starts"] != nil, u.node.attributes["ends"] != nil else {
                throw u.fail("starts", "Slice before opset 10 needs 'starts' and 'ends' attributes")
            }
            try u.attributeToInput("starts", at: 1, UpgradeContext.int64Vector)
            try u.attributeToInput("ends", at: 2, UpgradeContext.int64Vector)
            try u.attributeToInput("axes", at: 3, UpgradeContext.int64Vector)
        }
        onnx("Pad") { u in
            guard u.opset < 11 else { return }
            guard u.node.attributes["pads"] != nil else { throw u.fail("pads", "Pad before opset 11 needs a 'pads' attribute") }
            try u.attributeToInput("pads", at: 1, UpgradeContext.int64Vector)
            try u.attributeToInput("value", at: 2, UpgradeContext.floatScalar)
        }
        onnx("TopK") { u in
            if u.opset < 10 { try u.attributeToInput("k", at: 1, UpgradeContext.int64Vector) }
        }
        onnx("Cast") { u in
            guard u.node.attributes["to"] != nil else { throw u.fail("to", "Cast needs a 'to' data type") }
            try u.dataTypeAttribute("to")
        }
        onnx("Constant") { u in try Self.canonicalConstant(&u) }
        onnx("Resize", since: 10) { u in
            if u.opset < 11 {
                // Resize-10: (X, scales) with Upsample's semantics: asymmetric coordinates and
                // floor for nearest.
                let scales = u.node.input(1) ?? ""
                u.node.inputs = [u.node.inputs.first ?? "", "", scales]
                u.node.attributes["coordinate_transformation_mode"] = .string("asymmetric")
                u.node.attributes["nearest_mode"] = .string("floor")
            }
            u.trimInputs()
        }
        onnx("Upsample") { u in
            // Upsample-7 (scales attribute), -9/-10 (scales input) → Resize with asymmetric
            // coordinates and floor rounding, which is what Upsample computes.
            var scales = u.node.input(1) ?? ""
            if let a = u.node.attributes.removeValue(forKey: "scales") {
                guard let v = a.floatsValue else { throw u.fail("scales", "must be a list of floats") }
                scales = u.constant(Tensor.vector(v), "scales")
            }
            guard !scales.isEmpty else { throw u.fail("scales", "Upsample needs scales") }
            u.node.opType = "Resize"
            u.node.inputs = [u.node.inputs.first ?? "", "", scales]
            let mode = u.node.string("mode") ?? "nearest"
            u.node.attributes["mode"] = .string(mode == "bilinear" ? "linear" : mode)
            u.node.attributes["coordinate_transformation_mode"] = .string("asymmetric")
            u.node.attributes["nearest_mode"] = .string("floor")
        }
    }

    /// Constant's value_float(s)/value_int(s)/value_string(s) → a `value` tensor attribute.
    static func canonicalConstant(_ u: inout UpgradeContext) throws {
        let a = u.node.attributes
        var value: Tensor
        if let t = a["value"]?.tensorValue {
            value = t
        } else if let f = a["value_float"]?.floatValue {
            value = Tensor.scalar(f)
        } else if let fs = a["value_floats"]?.floatsValue {
            value = Tensor.vector(fs)
        } else if let i = a["value_int"]?.intValue {
            value = Tensor.scalar(Int64(i))
        } else if let iz = a["value_ints"]?.intsValue {
            value = Tensor.vector(iz.map(Int64.init))
        } else if let s = a["value_string"]?.stringValue {
            value = try Tensor(strings: [s], shape: [])
        } else if case .strings(let ss)? = a["value_strings"] {
            value = try Tensor(strings: ss, shape: [ss.count])
        } else if a["sparse_value"] != nil {
            throw u.fail("sparse_value", "sparse constants are not supported; densify before export")
        } else {
            throw u.fail("value", "Constant has no value attribute")
        }
        u.node.attributes = ["value": .tensor(value)]
    }
}
