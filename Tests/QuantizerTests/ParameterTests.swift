import ModelIR
import Quantizer
import XCTest

final class ParameterTests: XCTestCase {
    func testActivationParametersPerType() throws {
        let r = TensorRange(min: -1, max: 3)
        let u8 = try ActivationQuantization.parameters(for: r, type: .uint8Asymmetric)
        XCTAssertEqual(u8.scale, Float(4.0 / 255))
        XCTAssertEqual(u8.zeroPoint, 64)  // round(0 − (−1)/(4/255)) = round(63.75)
        XCTAssertEqual(u8.elementType, .uint8)
        let s8a = try ActivationQuantization.parameters(for: r, type: .int8Asymmetric)
        XCTAssertEqual(s8a.zeroPoint, -64)  // round(−128 + 63.75)
        let s8 = try ActivationQuantization.parameters(for: r, type: .int8Symmetric)
        XCTAssertEqual(s8.scale, Float(3.0 / 127))
        XCTAssertEqual(s8.zeroPoint, 0)
        // 0 is always exactly representable, also when the range excludes it.
        for type in HardwareClass.ActivationType.allCases {
            for range in [TensorRange(min: 2, max: 5), TensorRange(min: -7, max: -0.5), r] {
                let p = try ActivationQuantization.parameters(for: range, type: type)
                XCTAssertEqual(p.dequantize(p.quantize(0)), 0, "\(type) \(range)")
                XCTAssertTrue((p.qmin...p.qmax).contains(p.zeroPoint))
            }
        }
        let positive = try ActivationQuantization.parameters(for: TensorRange(min: 2, max: 5), type: .uint8Asymmetric)
        XCTAssertEqual(positive.zeroPoint, 0)
        XCTAssertEqual(positive.scale, Float(5.0 / 255))
    }

    func testDegenerateAndBadRanges() throws {
        for type in HardwareClass.ActivationType.allCases {
            let p = try ActivationQuantization.parameters(for: TensorRange(min: 0, max: 0), type: type)
            XCTAssertEqual(p.scale, 1)
            XCTAssertEqual(p.dequantize(p.quantize(0)), 0)
            let tiny = try ActivationQuantization.parameters(for: TensorRange(min: 0, max: 1e-30), type: type)
            XCTAssertEqual(tiny.scale, ActivationQuantization.minimumScale)
        }
        XCTAssertThrowsError(
            try ActivationQuantization.parameters(for: TensorRange(min: -.infinity, max: 1), type: .uint8Asymmetric, tensor: "t")
        ) {
            XCTAssertTrue("\($0)".contains("'t'"))
        }
    }

    func testActivationsFoldIntoRanges() {
        let r = TensorRange(min: -3, max: 9)
        XCTAssertEqual(ActivationQuantization.fold(r, into: .relu), TensorRange(min: 0, max: 9))
        XCTAssertEqual(ActivationQuantization.fold(r, into: .clip(min: 0, max: 6)), TensorRange(min: 0, max: 6))
        XCTAssertEqual(
            ActivationQuantization.fold(TensorRange(min: 0.5, max: 2), into: .clip(min: 0, max: 6)), TensorRange(min: 0.5, max: 2))
        XCTAssertEqual(ActivationQuantization.fold(TensorRange(min: -5, max: -1), into: .relu), TensorRange(min: 0, max: 0))
        XCTAssertEqual(ActivationQuantization.fold(r, into: .sigmoid), r)
    }

    func testWeightsPerChannelAndPerTensor() throws {
        // Three output channels of 3 weights: ranges 1.27, 0.5 and an all-zero channel.
        let w = try Tensor(floats: [1.27, -0.635, 0.01, 0.5, -0.25, 0.0, 0, 0, 0], shape: [3, 3, 1, 1])
        let pc = try WeightQuantization.quantize(w, name: "w", granularity: .perChannel, axis: 0, bits: 8)
        XCTAssertEqual(pc.scales, [Float(1.27) / 127, Float(0.5) / 127, 1])
        XCTAssertEqual(pc.values, [127, -64, 1, 127, -64, 0, 0, 0, 0])  // −63.5 → −64 (half to even)
        XCTAssertEqual(pc.axis, 0)
        let pt = try WeightQuantization.quantize(w, name: "w", granularity: .perTensor, axis: 0, bits: 8)
        XCTAssertEqual(pt.scales, [Float(1.27) / 127])
        XCTAssertNil(pt.axis)
        XCTAssertEqual(pt.values[3], 50)
        let seven = try WeightQuantization.quantize(w, name: "w", granularity: .perChannel, axis: 0, bits: 7)
        XCTAssertEqual(seven.values.map { abs(Int($0)) }.max(), 63)
        XCTAssertEqual(seven.values[0], 63)
        XCTAssertFalse(pc.values.contains(-128))
        // MatMul weights [K, N]: channel axis 1.
        let mm = try WeightQuantization.quantize(
            try Tensor(floats: [1, 4, -2, 8], shape: [2, 2]), name: "m", granularity: .perChannel, axis: 1, bits: 8)
        XCTAssertEqual(mm.scales, [Float(2) / 127, Float(8) / 127])
        for (d, x) in zip(mm.dequantized(), [Float(1), 4, -2, 8]) { XCTAssertEqual(d, x, accuracy: 8 / 127 / 2) }
        let (t, p) = try pc.tensor()
        XCTAssertEqual(t.elementType, .int8)
        XCTAssertNoThrow(try p.validate(for: .int8, shape: Shape([3, 3, 1, 1])))
        XCTAssertThrowsError(
            try WeightQuantization.quantize(try Tensor(floats: [.nan], shape: [1]), name: "bad", granularity: .perTensor, axis: 0, bits: 8))
    }

    func testBiasQuantizationAndSaturationReport() throws {
        let b = try QuantizedBias.quantize([0.5, -0.25, 1e6], inputScale: 0.01, weightScales: [0.001, 0.002, 1e-6], tensor: "conv.bias")
        XCTAssertEqual(b.values[0], 50_000)  // 0.5 / 1e-5
        XCTAssertEqual(b.values[1], -12_500)
        XCTAssertEqual(b.values[2], QuantizedBias.maxAbs)  // 1e6 / 1e-8 = 1e14 saturates
        XCTAssertEqual(b.saturated.map(\.channel), [2])
        let report = try XCTUnwrap(b.saturationReport(tensor: "conv.bias"))
        XCTAssertTrue(report.contains("conv.bias") && report.contains("1 of 3"), report)
        XCTAssertThrowsError(try QuantizedBias.quantize([1, 2], inputScale: 0.1, weightScales: [1, 2, 3], tensor: "b"))
    }

    func testSharedParameterGroups() throws {
        var g = Graph(
            inputs: [ValueInfo("x", TensorType(.float32, [1, 4, 8, 8]))], outputs: [ValueInfo("out", TensorType(.float32, [1, 256]))])
        g.initializers["shape"] = .vector([Int64(1), -1])
        g.nodes = [
            Node(name: "a", opType: "Relu", inputs: ["x"], outputs: ["r"]),
            Node(name: "p", opType: "MaxPool", inputs: ["r"], outputs: ["mp"], attributes: ["kernel_shape": .ints([2, 2])]),
            Node(name: "b", opType: "Sigmoid", inputs: ["x"], outputs: ["s"]),
            Node(name: "ap", opType: "AveragePool", inputs: ["s"], outputs: ["avg"], attributes: ["kernel_shape": .ints([2, 2])]),
            Node(name: "c", opType: "Concat", inputs: ["mp", "avg"], outputs: ["cat"], attributes: ["axis": .int(1)]),
            Node(name: "f", opType: "Reshape", inputs: ["cat", "shape"], outputs: ["out"]),
        ]
        let groups = SharedParameterGroups.groups(in: g)
        XCTAssertEqual(groups, [["avg", "cat", "mp", "out", "r"]])
        let merged = SharedParameterGroups.mergedRange(
            groups[0], ranges: ["r": TensorRange(min: 0, max: 4), "avg": TensorRange(min: 0.1, max: 0.9)])
        XCTAssertEqual(merged, TensorRange(min: 0, max: 4))
    }
}
