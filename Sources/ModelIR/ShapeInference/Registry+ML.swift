/// ai.onnx.ml ops the importer accepts.
extension ShapeInferenceRegistry {
    mutating func registerML() {
        // X[..., C] → X[..., len(Y)]; a 1-D X gives [1, len(Y)] (ONNX Runtime's rule).
        register("ArrayFeatureExtractor", domain: "ai.onnx.ml") { ctx in
            guard let t = ctx.type(0) else { return [nil] }
            guard let x = t.shape else { return [TensorType(t.elementType, nil)] }
            guard x.rank >= 1 else { throw ctx.mismatch("X \(x) must have rank ≥ 1") }
            let count: Dimension = ctx.shape(1)?.elementCount.map(Dimension.fixed) ?? ctx.unknown()
            return [TensorType(t.elementType, Shape(x.rank == 1 ? [.fixed(1), count] : Array(x.dims.dropLast()) + [count]))]
        }
        register("Binarizer", domain: "ai.onnx.ml") { ctx in [ctx.type(0).map { TensorType($0.elementType, $0.shape) }] }
        for op in ["Scaler", "Normalizer"] {
            register(op, domain: "ai.onnx.ml") { ctx in [TensorType(.float32, ctx.shape(0))] }
        }
    }
}
