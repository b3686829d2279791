import Foundation
import ModelIR
import ONNXImport
import Quantizer
import Runtime
import TestSupport
import XCTest

/// CLE and bias correction on the MobileNetV2-shaped fixture (docs/fixtures.md).
final class EqualizationTests: XCTestCase {
    func mobileNet() throws -> Model {
        var options = ONNXImporter.Options()
        options.evaluator = RuntimeConstantEvaluator()
        return try ONNXImporter.importModel(from: TestPaths.fixtures.appendingPathComponent("mobilenetv2_shaped.onnx"), options: options)
    }

    func run(_ graph: Graph, _ input: Tensor) throws -> [Float] {
        let plan = try ExecutionPlan(graph: graph, bindings: ["N": input.shape[0]])
        let out = try plan.makeSession().run(inputs: [graph.inputs[0].name: input])
        return try XCTUnwrap(out[graph.outputs[0].name]?.floats)
    }

    func randomInputs(_ count: Int, seed: UInt64) throws -> [Tensor] {
        var r = SplitMix64(seed: seed)
        return try (0..<count).map { _ in try Tensor(floats: (0..<(3 * 96 * 96)).map { _ in Float(r.gaussian()) }, shape: [1, 3, 96, 96]) }
    }

    func meanSpread(_ s: [String: Double], _ names: Set<String>) -> Double {
        let v = s.filter { names.contains($0.key) }.map(\.value)
        return v.reduce(0, +) / Double(max(v.count, 1))
    }

    func testCLEKeepsOutputsAndEqualizesChannelRanges() throws {
        let model = try mobileNet()
        let input = try NPYFile.read(TestPaths.fixtures.appendingPathComponent("mobilenetv2_shaped.input.npy"))
        let before = try run(model.graph, input)

        // With the default policy only pairs without an activation in between (a project conv
        // feeding the next expand directly) are equalized; ReLU6 pairs are skipped.
        var skipped = model.graph
        let skipReport = try CrossLayerEqualization().run(on: &skipped)
        let firstOfPair = Set(skipReport.pairs.map(\.0))
        XCTAssertTrue(skipped.nodes.filter { firstOfPair.contains($0.name) }.allSatisfy { $0.fusedActivation == nil })
        XCTAssertEqual(skipped.nodes.count, model.graph.nodes.count)
        XCTAssertGreaterThan(skipReport.skipped.count, 30)
        let skippedDiff = zip(before, try run(skipped, input)).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(skippedDiff, 1e-4)

        var g = model.graph
        let report = try CrossLayerEqualization(clipPolicy: .perChannelBounds).run(on: &g)
        // Stem→depthwise, every expand→depthwise and depthwise→project: 34 ReLU6 pairs.
        XCTAssertEqual(report.pairs.count, skipReport.pairs.count + 34)
        // Each ReLU6 pair's first layer (stem, 16 expands, 17 depthwise) now ends in Relu + Min.
        XCTAssertEqual(g.nodes.filter { $0.opType == "Min" }.count, 34)
        let after = try run(g, input)
        let maxDiff = zip(before, after).map { abs($0 - $1) }.max() ?? 0
        let scale = before.map { abs($0) }.max() ?? 1
        print("CLE: \(report.pairs.count) pairs, \(report.sweeps) sweeps; max |Δ logit| = \(maxDiff) (max |logit| \(scale))")
        XCTAssertLessThan(maxDiff, 1e-4 * max(scale, 1), "fp32 outputs must match within 1e-4 relative")

        let names = Set(report.pairs.flatMap { [$0.0, $0.1] })
        let spreadBefore = CrossLayerEqualization.channelRangeSpread(model.graph)
        let spreadAfter = CrossLayerEqualization.channelRangeSpread(g)
        let mb = meanSpread(spreadBefore, names), ma = meanSpread(spreadAfter, names)
        let worstBefore = names.compactMap { spreadBefore[$0] }.max() ?? 0, worstAfter = names.compactMap { spreadAfter[$0] }.max() ?? 0
        print("max/median per-channel weight range over equalized layers: mean \(mb) → \(ma), worst \(worstBefore) → \(worstAfter)")
        XCTAssertLessThan(ma, mb)
        XCTAssertLessThan(worstAfter, worstBefore)
    }

    /// After correction, a layer with quantized weights has the same mean output per channel
    /// as the fp32 layer on the calibration data; without it, it does not.
    func testBiasCorrectionCancelsTheMeanWeightError() throws {
        let model = try mobileNet()
        let samples = try randomInputs(4, seed: 11)
        let batches = samples.map { Result<[String: Tensor], QuantizerError>.success(["input": $0]) }
        XCTAssertEqual(model.graph.inputs[0].name, "input")
        var corrected = model.graph
        let report = try BiasCorrection(granularity: .perTensor, weightBits: 8).run(on: &corrected, data: batches)
        XCTAssertEqual(report.samples, 4)
        XCTAssertEqual(report.corrected.count, 52)

        // A project conv (no fused activation): its output's channel means are the test.
        let index = try XCTUnwrap(
            model.graph.nodes.firstIndex {
                $0.opType == "Conv" && $0.fusedActivation == nil && ($0.int("group") ?? 1) == 1 && $0.name.contains("features.5")
            })
        let node = model.graph.nodes[index]
        let y = node.outputs[0]
        func channelMeans(_ g: Graph) throws -> [Double] {
            var capture = try ActivationCapture(graph: g, values: [y])
            var sums: [Double] = []
            var count = 0
            for s in samples {
                let t = try XCTUnwrap(try capture.run(["input": s])[y])
                let f = try XCTUnwrap(t.floats)
                let c = t.shape[1], plane = t.shape[2] * t.shape[3]
                if sums.isEmpty { sums = [Double](repeating: 0, count: c) }
                for ch in 0..<c { for p in 0..<plane { sums[ch] += Double(f[ch * plane + p]) } }
                count += plane
            }
            return sums.map { $0 / Double(count) }
        }
        /// The graph with only this layer's weights fake-quantized and the given bias.
        func fakeQuantized(_ g: Graph) throws -> Graph {
            var g = g
            let wName = try XCTUnwrap(node.input(1))
            let w = try XCTUnwrap(g.initializers[wName])
            let q = try WeightQuantization.quantize(w, name: wName, granularity: .perTensor, axis: 0, bits: 8)
            g.initializers[wName] = try Tensor(floats: q.dequantized(), shape: w.shape)
            return g
        }
        let reference = try channelMeans(model.graph)
        let uncorrected = try channelMeans(fakeQuantized(model.graph))
        // Only this layer's corrected bias: upstream corrections would shift its fp32 input.
        var onlyThisLayer = model.graph
        let biasName = try XCTUnwrap(node.input(2))
        onlyThisLayer.initializers[biasName] = corrected.initializers[biasName]
        XCTAssertNotEqual(onlyThisLayer.initializers[biasName], model.graph.initializers[biasName])
        let fixed = try channelMeans(fakeQuantized(onlyThisLayer))
        let errorBefore = zip(reference, uncorrected).map { abs($0 - $1) }.max() ?? 0
        let errorAfter = zip(reference, fixed).map { abs($0 - $1) }.max() ?? 0
        print("bias correction on \(node.name): max |channel mean error| \(errorBefore) → \(errorAfter)")
        XCTAssertGreaterThan(errorBefore, 1e-4)
        XCTAssertLessThan(errorAfter, errorBefore / 20)
        XCTAssertLessThan(errorAfter, 2e-5)
    }
}
