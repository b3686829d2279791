import ModelIR

/// `ai.onnx.ml` ops the runtime needs for exported classifiers' label paths.
extension OpRegistry {
    mutating func registerML() {
        // ArrayFeatureExtractor(X, Y): selects elements of X's last axis at the indices Y. Output
        // shape follows ONNX Runtime: X[..., C] → X[..., len(Y)], and a 1-D X gives [1, len(Y)].
        register("ArrayFeatureExtractor", domain: "ai.onnx.ml") { ctx in
            let x = try ctx.input(0, [.float32, .float64, .int64, .int32]), y = try ctx.input(1, [.int64])
            guard x.rank >= 1 else { throw ctx.fail("X must have rank ≥ 1") }
            let count = y.elementCount
            let outShape = x.rank == 1 ? [1, count] : Array(x.shape.dropLast()) + [count]
            let last = x.shape[x.rank - 1]
            let rows = x.shape.dropLast().reduce(1, *)
            return .kernel(outputs: [ValueType(x.elementType, outShape)], workspaceBytes: 0) { b in
                GatherKernel(
                    data: b.input(0), indices: b.input(1), output: b.outputs[0], outer: rows, axisSize: last, inner: 1,
                    count: count, wide: true, elementSize: x.elementType.byteSize ?? 4, node: ctx.node.name)
            }
        }
    }
}
