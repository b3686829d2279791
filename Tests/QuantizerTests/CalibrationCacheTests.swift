import ModelIR
import Quantizer
import XCTest

/// The cache must give exactly the ranges a fresh calibrator gives, for every kind and class,
/// while streaming the data once per graph instead of once per quantization.
final class CalibrationCacheTests: XCTestCase {
    func testCachedRangesEqualFreshRangesForEveryCalibratorAndClass() throws {
        let model = try Digits.model()
        let data = try Digits.calibration(batch: 64)
        let values = model.graph.nodes.compactMap(\.outputs.first) + ["input"]
        let cache = CalibrationCache()
        for profile in try Digits.builtInClasses() {
            for kind in HardwareClass.CalibratorKind.allCases {
                let fresh = try ActivationCapture.calibrate(
                    graph: model.graph, values: values, data: data, makeCalibrator: { CalibratorFactory.make(kind, for: profile) })
                let cached = try cache.ranges(graph: model.graph, values: values, data: data, calibrator: kind, profile: profile)
                XCTAssertEqual(cached, fresh, "\(profile.name) \(kind)")
            }
        }
        XCTAssertEqual(cache.passes, 1, "one pass over the data serves every calibrator and class")
    }

    func testNewValuesAndRewrittenGraphsGetTheirOwnPass() throws {
        let model = try Digits.model()
        let data = try Digits.calibration(batch: 64)
        let profile = try XCTUnwrap(try Digits.builtInClasses().first)
        let cache = CalibrationCache()
        let outputs = model.graph.nodes.compactMap(\.outputs.first)
        _ = try cache.ranges(graph: model.graph, values: Array(outputs.prefix(2)), data: data, calibrator: .minmax, profile: profile)
        _ = try cache.ranges(graph: model.graph, values: Array(outputs.prefix(2)), data: data, calibrator: .entropy, profile: profile)
        XCTAssertEqual(cache.passes, 1)
        _ = try cache.ranges(graph: model.graph, values: outputs, data: data, calibrator: .mse, profile: profile)
        XCTAssertEqual(cache.passes, 2, "values not yet captured need a pass")
        var rewritten = model.graph
        rewritten.name += "-rewritten"
        _ = try cache.ranges(graph: rewritten, values: outputs, data: data, calibrator: .mse, profile: profile)
        XCTAssertEqual(cache.passes, 3, "a different graph is never served another graph's statistics")
    }

    func testQuantizingWithTheCacheGivesTheSameModel() throws {
        let model = try Digits.model()
        let data = try Digits.calibration(batch: 64)
        let cache = CalibrationCache()
        for profile in try Digits.builtInClasses() {
            let plain = try StaticQuantizer(profile: profile).quantize(model, calibration: data)
            let cached = try StaticQuantizer(profile: profile, calibrationCache: cache).quantize(model, calibration: data)
            XCTAssertEqual(cached.model.graph, plain.model.graph, profile.name)
        }
    }
}
