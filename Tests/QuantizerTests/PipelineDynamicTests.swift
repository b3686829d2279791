import Foundation
import ModelIR
import Quantizer
import Runtime
import XCTest

/// Dynamic quantization of the digits MLP (MatMul layers): no calibration data, int8 weights,
/// DynamicQuantizeLinear + MatMulInteger, run on the int8 runtime.
final class PipelineDynamicTests: XCTestCase {
    func testDigitsMLPDynamicMeetsHalfPointBudget() throws {
        let fp32 = try Digits.model("digits_mlp.onnx")
        let data = try Digits.testSet("test_x_flat.npy")
        let evaluator = ModelEvaluator(kernels: .reference, outputName: "probabilities", latencyRuns: 3)
        let reference = try evaluator.reference(fp32, data: data)
        for profile in try Digits.builtInClasses() {
            let q = try DynamicQuantizer(profile: profile).quantize(fp32)
            let ops = q.model.graph.nodes.map(\.opType)
            XCTAssertFalse(ops.contains("MatMul") || ops.contains("Gemm"), "\(profile.name): \(ops)")
            XCTAssertEqual(ops.filter { $0 == "MatMulInteger" }.count, q.int8Nodes.count)
            XCTAssertGreaterThanOrEqual(q.int8Nodes.count, 2)
            for n in q.model.graph.nodes where n.opType == "MatMulInteger" {
                let w = try XCTUnwrap(q.model.graph.initializers[n.inputs[1]])
                XCTAssertEqual(w.elementType, .int8)
                XCTAssertLessThanOrEqual(w.int8s?.map { abs(Int($0)) }.max() ?? 0, Int(profile.weightQMax))
                XCTAssertEqual(
                    q.model.graph.initializers[n.inputs[3]]?.elementCount, profile.weightGranularity == .perChannel ? w.shape[1] : 1)
            }
            let r = try evaluator.evaluate(q, fp32: fp32, reference: reference, data: data)
            print(
                "PipelineDynamic \(profile.name): fp32 \(r.fp32Accuracy) int8 \(r.int8Accuracy) agreement \(r.agreement) cosine \(r.meanCosine) "
                    + "sizes \(r.sizes.map { "\($0.fp32Bytes) → \($0.int8Bytes)" } ?? "-")")
            XCTAssertLessThanOrEqual(r.dropPoints, 0.5, profile.name)
            XCTAssertGreaterThan(r.meanCosine, 0.999, profile.name)
        }
    }
}
