import ModelIR

/// Quantized ops: ai.onnx (QDQ and QOperator forms) and ONNX Runtime's com.microsoft contrib
/// ops that quantization tools emit.
extension OpRegistry {
    mutating func registerQuantized() {
        onnx("QuantizeLinear", since: 10) { u in try u.dataTypeAttribute("output_dtype") }
        onnx("DequantizeLinear", since: 10) { u in try u.dataTypeAttribute("output_dtype") }
        for op in ["QLinearConv", "QLinearMatMul", "MatMulInteger", "ConvInteger"] { onnx(op, since: 10) }
        onnx("DynamicQuantizeLinear", since: 11)
        for op in [
            "QLinearAdd", "QLinearMul", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearConcat", "QLinearGlobalAveragePool",
            "QLinearAveragePool", "QGemm", "DynamicQuantizeMatMul", "MatMulIntegerToFloat",
        ] {
            microsoft(op)
        }
    }
}
