import Foundation
import ModelIR
import Quantizer
import XCTest

/// The report: JSON carries every figure and round-trips; the table names the class, the
/// figures, the fp32 layers with their reasons and the worst SQNRs.
final class PipelineReportTests: XCTestCase {
    func testReportJSONRoundTripsAndTableShowsTheFigures() throws {
        let profile = try XCTUnwrap(Digits.builtInClasses().first { $0.name == "arm64-dotprod" })
        let tuner = AccuracyTuner(
            profile: profile, budget: AccuracyBudget(maxDropPoints: 0.5),
            evaluator: ModelEvaluator(latencyRuns: 3, compressedSize: { $0.count / 2 }))
        let outcome = try tuner.tune(Digits.model(), calibration: Digits.calibration(), evaluation: Digits.testSet())
        let report = QuantizationReport(
            model: "digits_cnn.onnx", evaluatedWith: "int8 reference kernels",
            classes: [
                .init(outcome: outcome, budget: tuner.budget, output: "/tmp/x.onnx")
            ])
        let decoded = try JSONDecoder().decode(QuantizationReport.self, from: report.json())
        XCTAssertEqual(decoded, report)
        let c = try XCTUnwrap(decoded.classes.first)
        XCTAssertEqual(c.hardwareClass, "arm64-dotprod")
        XCTAssertEqual(c.calibrator, "entropy", "the profile's first calibrator meets the budget")
        XCTAssertEqual(c.evaluation.layerSQNR.count, 6, "input, relu1, pool1, relu2, flat, logits")
        XCTAssertEqual(c.evaluation.sizes?.int8ZstdBytes, (c.evaluation.sizes?.int8Bytes ?? 0) / 2)
        XCTAssertNotNil(c.evaluation.latency)
        let table = report.table()
        print(table)
        XCTAssertTrue(table.contains("arm64-dotprod") && table.contains("99.25%") && table.contains("met"), table)
        XCTAssertTrue(table.contains("worst SQNR: logits"), table)

        // A class that leaves layers in fp32 lists them with the reason.
        var withFallback = report
        withFallback.classes[0].fp32Layers = [.init(node: "fc", opType: "Gemm", reason: "kept in fp32 by accuracy tuning")]
        XCTAssertTrue(withFallback.table().contains("fp32 fc (Gemm): kept in fp32 by accuracy tuning"))
        XCTAssertFalse(table.contains("budget MISSED"), "a met budget needs no explanation")

        // A missed budget says what ended the search and lists every candidate with its figures.
        var missed = report
        missed.classes[0].budgetMet = false
        missed.classes[0].stoppedByTime = true
        missed.classes[0].trials = [
            .init(description: "calibrator entropy", int8Accuracy: 0.97, dropPoints: 2.25, agreement: 0.975, budgetMet: false),
            .init(description: "sensitivity: conv1 in fp32", int8Accuracy: 0.985, dropPoints: 0.75, agreement: 0.99, budgetMet: false),
        ]
        let text = missed.table()
        XCTAssertTrue(text.contains("MISSED (time)"), text)
        XCTAssertTrue(text.contains("budget MISSED: the time budget ended the search after 2 candidates"), text)
        XCTAssertTrue(text.contains("tried calibrator entropy: int8 top-1 97.00%, drop 2.25 pt, agree 97.50%"), text)
        XCTAssertTrue(text.contains("tried sensitivity: conv1 in fp32: int8 top-1 98.50%, drop 0.75 pt"), text)
        XCTAssertTrue(text.contains("give --time-budget more seconds"), text)
        missed.classes[0].stoppedByTime = false
        XCTAssertTrue(missed.table().contains("budget MISSED: no candidate met it; 2 tried"), missed.table())
    }
}
