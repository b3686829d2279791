import Foundation
import ModelIR
import Quantizer
import Runtime
import XCTest

/// Static PTQ of the digits CNN into QDQ form for every built-in class, evaluated on the
/// int8 runtime (QDQFusion + reference int8 kernels).
final class PipelineStaticTests: XCTestCase {
    func testDigitsCNNMeetsHalfPointBudgetForEveryBuiltInClass() throws {
        let fp32 = try Digits.model()
        let data = try Digits.testSet()
        let evaluator = ModelEvaluator(kernels: .reference)
        let reference = try evaluator.reference(fp32, data: data)
        XCTAssertEqual(reference.accuracy, 0.9925, accuracy: 0.0001, "fp32 accuracy from docs/fixtures.md")
        let classes = try Digits.builtInClasses()
        XCTAssertEqual(classes.count, 5)
        for profile in classes {
            let q = try StaticQuantizer(profile: profile).quantize(fp32, calibration: try Digits.calibration())
            let r = try evaluator.evaluate(q, fp32: fp32, reference: reference, data: data)
            print(
                String(
                    format: "PipelineStatic %@ (%@): int8 %.4f drop %.2f pt agreement %.4f cosine %.5f worst SQNR %@ %.1f dB",
                    profile.name, q.calibrator.rawValue, r.int8Accuracy, r.dropPoints, r.agreement, r.meanCosine,
                    r.layerSQNR.first?.value ?? "-", r.layerSQNR.first?.decibels ?? 0))
            XCTAssertLessThanOrEqual(r.dropPoints, 0.5, profile.name)
            XCTAssertGreaterThanOrEqual(r.agreement, 0.98, profile.name)
            XCTAssertGreaterThan(r.meanCosine, 0.99, profile.name)
            // Every quantized tensor is measured; int8 activations give far more than 20 dB.
            XCTAssertEqual(r.layerSQNR.count, q.activationParameters.count, profile.name)
            for l in r.layerSQNR { XCTAssertGreaterThan(l.decibels, 20, "\(profile.name) \(l.value)") }
            let sizes = try XCTUnwrap(r.sizes)
            XCTAssertLessThan(Double(sizes.int8Bytes), Double(sizes.fp32Bytes) / 3.5, profile.name)
        }
    }
}
