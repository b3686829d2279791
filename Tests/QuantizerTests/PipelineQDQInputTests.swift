import Foundation
import ModelIR
import Quantizer
import Runtime
import XCTest

/// ONNX Runtime's QDQ digits CNN keeps its scales; per-channel weights are refused for the
/// per-tensor class.
final class PipelineQDQInputTests: XCTestCase {
    func ortModel() throws -> Model { try Digits.model("quantized/digits_cnn.qdq.u8s8.perchannel.onnx") }

    func testQuantizedInputKeepsItsScalesAndIsEvaluatedAgainstItsFP32Equivalent() throws {
        let classes = try Digits.builtInClasses()
        let avx2 = try XCTUnwrap(classes.first { $0.name == "x86_64-avx2" })
        let model = try ortModel()
        let q = try StaticQuantizer(profile: avx2).quantize(model, calibration: Digits.calibration())
        XCTAssertEqual(q.model, model, "nothing requantized")
        XCTAssertEqual(q.recipesApplied, ["input model's own scales"])
        XCTAssertFalse(q.activationParameters.isEmpty)
        XCTAssertTrue(q.activationParameters.values.allSatisfy { $0.elementType == .uint8 })
        XCTAssertTrue(q.warnings.isEmpty, "\(q.warnings)")

        let fp32 = try QDQInputModel.fp32Equivalent(model)
        XCTAssertFalse(QDQInputModel.isQuantized(fp32.graph))
        let tuner = AccuracyTuner(profile: avx2, budget: AccuracyBudget(maxDropPoints: 0.5), evaluator: ModelEvaluator(latencyRuns: 3))
        let outcome = try tuner.tune(model, calibration: Digits.calibration(), evaluation: Digits.testSet())
        print(
            "PipelineQDQInput: ORT QDQ digits CNN on x86_64-avx2: fp32-equivalent \(outcome.result.fp32Accuracy), int8 \(outcome.result.int8Accuracy), "
                + "agreement \(outcome.result.agreement), worst SQNR \(outcome.result.layerSQNR.first.map { "\($0.value) \($0.decibels)" } ?? "-")"
        )
        XCTAssertEqual(outcome.trials.count, 1)
        XCTAssertEqual(outcome.result.fp32Accuracy, 0.9925, accuracy: 0.0026, "the fp32 equivalent is the trained network")
        XCTAssertTrue(outcome.budgetMet)
        XCTAssertFalse(outcome.result.layerSQNR.isEmpty)
        for l in outcome.result.layerSQNR { XCTAssertGreaterThan(l.decibels, 20, l.value) }
        XCTAssertTrue(outcome.model.int8Nodes.count >= 3, "\(outcome.model.int8Nodes)")

        // s8 classes take it with a warning about the activation signedness.
        let dot = try XCTUnwrap(classes.first { $0.name == "arm64-dotprod" })
        let qd = try StaticQuantizer(profile: dot).quantize(model, calibration: Digits.calibration())
        XCTAssertEqual(qd.warnings.count, 1)
        XCTAssertTrue(qd.warnings[0].contains("uint8"), qd.warnings[0])
    }

    func testPerChannelWeightsAreRefusedForThePerTensorClass() throws {
        let mcu = try XCTUnwrap(Digits.builtInClasses().first { $0.name == "mcu-per-tensor" })
        XCTAssertThrowsError(try StaticQuantizer(profile: mcu).quantize(ortModel(), calibration: Digits.calibration())) { e in
            let d = "\(e)"
            XCTAssertTrue(d.contains("per channel") && d.contains("mcu-per-tensor") && d.contains("fp32 model"), d)
        }
    }
}
