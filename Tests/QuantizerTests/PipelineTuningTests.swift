import Foundation
import ModelIR
import Quantizer
import Runtime
import TestSupport
import XCTest

/// Accuracy-aware tuning: a layer whose per-tensor weight scale is ruined by one outlier is
/// found by sensitivity analysis and falls back to fp32; the budget is then met.
final class PipelineTuningTests: XCTestCase {
    /// x [N,16] → MatMul l1 [16,32] → Relu → MatMul l2 [32,4]. l1's weight [0][0] is 1000, but
    /// feature 0 is always 0, so fp32 never sees it — per-tensor int8 rounds every other l1
    /// weight to 0. Labels are the fp32 argmax (fp32 accuracy 100%).
    func outlierModel() throws -> (Model, [Result<[String: Tensor], QuantizerError>], EvaluationSet) {
        var r = SplitMix64(seed: 11)
        var w1 = (0..<(16 * 32)).map { _ in Float(r.gaussian()) * 0.3 }
        w1[0] = 1000
        let w2 = (0..<(32 * 4)).map { _ in Float(r.gaussian()) * 0.3 }
        let g = Graph(
            nodes: [
                Node(name: "l1", opType: "MatMul", inputs: ["x", "w1"], outputs: ["h"]),
                Node(name: "act", opType: "Relu", inputs: ["h"], outputs: ["a"]),
                Node(name: "l2", opType: "MatMul", inputs: ["a", "w2"], outputs: ["y"]),
            ],
            inputs: [ValueInfo("x", TensorType(.float32, Shape([.symbolic("N"), .fixed(16)])))],
            outputs: [ValueInfo("y", TensorType(.float32, nil))],
            initializers: ["w1": try Tensor(floats: w1, shape: [16, 32]), "w2": try Tensor(floats: w2, shape: [32, 4])])
        func samples(_ n: Int) throws -> Tensor {
            try Tensor(floats: (0..<(n * 16)).map { i in i % 16 == 0 ? 0 : Float(r.gaussian()) }, shape: [n, 16])
        }
        let calibration: [Result<[String: Tensor], QuantizerError>] = try (0..<4).map { _ in .success(["x": try samples(64)]) }
        let x = try samples(400)
        let y = try ModelEvaluator().run(g, inputs: ["x": x])["y"]?.floats ?? []
        let labels = (0..<400).map { i in Int64((0..<4).max { y[i * 4 + $0] < y[i * 4 + $1] } ?? 0) }
        return (Model(graph: g), calibration, try EvaluationSet(inputs: ["x": x], labels: labels))
    }

    func testSensitiveLayerFallsBackToFP32UntilTheBudgetIsMet() throws {
        let profile = try XCTUnwrap(Digits.builtInClasses().first { $0.name == "mcu-per-tensor" })
        let (model, calibration, data) = try outlierModel()
        let tuner = AccuracyTuner(profile: profile, budget: AccuracyBudget(maxDropPoints: 1), evaluator: ModelEvaluator(latencyRuns: 3))
        let outcome = try tuner.tune(model, calibration: calibration, evaluation: data)
        for t in outcome.trials { print("PipelineTuning: \(t.description): int8 \(t.int8Accuracy) drop \(t.dropPoints)") }
        // Without fallback the outlier ruins l1 for every calibrator.
        XCTAssertGreaterThan(try XCTUnwrap(outcome.trials.first).dropPoints, 20)
        XCTAssertTrue(outcome.budgetMet)
        XCTAssertLessThanOrEqual(outcome.result.dropPoints, 1)
        XCTAssertEqual(outcome.result.fp32Accuracy, 1)
        XCTAssertTrue(outcome.model.fp32Layers.contains { $0.node == "l1" && $0.reason.contains("tuning") }, "\(outcome.model.fp32Layers)")
        XCTAssertTrue(outcome.model.int8Nodes.contains("l2"))
        XCTAssertFalse(outcome.stoppedByTime)
        XCTAssertNotNil(outcome.result.latency)
    }

    func testZeroTimeBudgetStillReturnsTheFirstCandidate() throws {
        let profile = try XCTUnwrap(Digits.builtInClasses().first { $0.name == "mcu-per-tensor" })
        let (model, calibration, data) = try outlierModel()
        let tuner = AccuracyTuner(
            profile: profile, budget: AccuracyBudget(maxDropPoints: 1), timeBudget: .zero,
            evaluator: ModelEvaluator(latencyRuns: 1))
        let outcome = try tuner.tune(model, calibration: calibration, evaluation: data)
        XCTAssertEqual(outcome.trials.count, 1)
        XCTAssertTrue(outcome.stoppedByTime || profile.calibrators.count == 1)
        XCTAssertFalse(outcome.budgetMet)
    }

    func testBudgetBounds() {
        let r = EvaluationResult(
            samples: 100, fp32Accuracy: 0.9, int8Accuracy: 0.89, dropPoints: 1, agreement: 0.97, meanCosine: 0.99,
            layerSQNR: [], sizes: nil, latency: nil)
        XCTAssertTrue(AccuracyBudget(maxDropPoints: 1).isMet(by: r))
        XCTAssertFalse(AccuracyBudget(maxDropPoints: 0.5).isMet(by: r))
        XCTAssertTrue(AccuracyBudget(maxRelativeDrop: 0.012).isMet(by: r))
        XCTAssertFalse(AccuracyBudget(maxRelativeDrop: 0.01).isMet(by: r))
        XCTAssertFalse(AccuracyBudget(maxDropPoints: 2, minAgreement: 0.98).isMet(by: r))
    }
}
