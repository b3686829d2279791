import Foundation
import ModelIR
import Runtime
import XCTest

/// Pools (pads, strides, dilations, ceil_mode, count_include_pad, Indices), global pools,
/// Softmax/LogSoftmax, BatchNorm, InstanceNorm, LayerNorm, by hand.
final class PoolingNormalizationTests: XCTestCase {
    /// 1×1×4×4 with values 0...15.
    let grid = t((0..<16).map(Float.init), [1, 1, 4, 4])

    func testMaxPoolStridesPadsAndIndices() throws {
        let out = try runNode(
            "MaxPool", inputs: [("x", grid)], attributes: ["kernel_shape": .is([2, 2]), "strides": .is([2, 2])],
            outputs: ["y", "i"])
        assertClose(out["y"], [5, 7, 13, 15], shape: [1, 1, 2, 2])
        XCTAssertEqual(out["i"]?.int64s, [5, 7, 13, 15])
        // storage_order 1: column-major flat index (x·H + y): 5 = (1,1) → 5, 7 = (1,3) → 13.
        let cm = try runNode(
            "MaxPool", inputs: [("x", grid)],
            attributes: [
                "kernel_shape": .is([2, 2]), "strides": .is([2, 2]),
                "storage_order": .i(1),
            ], outputs: ["y", "i"])
        XCTAssertEqual(cm["i"]?.int64s, [5, 13, 7, 15])
        // pads 1 and 3×3 window, stride 2: windows centred on (0,0), (0,2), (2,0), (2,2).
        let padded = try runNode(
            "MaxPool", inputs: [("x", grid)],
            attributes: ["kernel_shape": .is([3, 3]), "strides": .is([2, 2]), "pads": .is([1, 1, 1, 1])])
        assertClose(padded["y"], [5, 7, 13, 15], shape: [1, 1, 2, 2])
    }

    func testMaxPoolCeilModeAndDilation() throws {
        // 4 wide, k 3, stride 2: floor → 1, ceil → 2 (the second window starts at 2 < 4).
        let floor = try runNode("MaxPool", inputs: [("x", grid)], attributes: ["kernel_shape": .is([3, 3]), "strides": .is([2, 2])])
        assertClose(floor["y"], [10], shape: [1, 1, 1, 1])
        let ceil = try runNode(
            "MaxPool", inputs: [("x", grid)],
            attributes: ["kernel_shape": .is([3, 3]), "strides": .is([2, 2]), "ceil_mode": .i(1)])
        assertClose(ceil["y"], [10, 11, 14, 15], shape: [1, 1, 2, 2])
        let dil = try runNode("MaxPool", inputs: [("x", grid)], attributes: ["kernel_shape": .is([2, 2]), "dilations": .is([2, 2])])
        assertClose(dil["y"], [10, 11, 14, 15], shape: [1, 1, 2, 2])
    }

    func testAveragePoolCountIncludePadAndCeil() throws {
        let attrs: [String: Attribute] = ["kernel_shape": .is([2, 2]), "strides": .is([2, 2]), "pads": .is([1, 1, 1, 1])]
        // Output 3×3; corner window (-1..0, -1..0) holds only x[0,0] = 0.
        let excl = try runNode("AveragePool", inputs: [("x", grid)], attributes: attrs)
        assertClose(excl["y"], [0, 1.5, 3, 6, 7.5, 9, 12, 13.5, 15], shape: [1, 1, 3, 3])
        var incl = attrs
        incl["count_include_pad"] = .i(1)
        let inc = try runNode("AveragePool", inputs: [("x", grid)], attributes: incl)
        assertClose(inc["y"], [0, 0.75, 0.75, 3, 7.5, 4.5, 3, 6.75, 3.75], shape: [1, 1, 3, 3])
        // ceil_mode with no padding: the overhanging window (2..3, 4) averages what it covers.
        let ceil = try runNode(
            "AveragePool", inputs: [("x", t((0..<5).map(Float.init), [1, 1, 5]))],
            attributes: ["kernel_shape": .is([2]), "strides": .is([2]), "ceil_mode": .i(1), "count_include_pad": .i(1)])
        assertClose(ceil["y"], [0.5, 2.5, 4], shape: [1, 1, 3])
    }

    func testGlobalPools() throws {
        let x = t([1, 2, 3, 4, -1, -2, -3, -4], [1, 2, 2, 2])
        assertClose(try runNode("GlobalAveragePool", inputs: [("x", x)])["y"], [2.5, -2.5], shape: [1, 2, 1, 1])
        assertClose(try runNode("GlobalMaxPool", inputs: [("x", x)])["y"], [4, -1], shape: [1, 2, 1, 1])
    }

    func testSoftmaxAxesAndLogSoftmax() throws {
        let x = t([1, 2, 3, 1, 1, 1], [2, 3])
        let e = [exp(1.0), exp(2.0), exp(3.0)]
        let s = e.reduce(0, +)
        assertClose(try runNode("Softmax", inputs: [("x", x)])["y"], (e.map { Float($0 / s) }) + [1, 1, 1].map { Float($0) / 3 })
        // axis 0: columns normalize.
        let col = try runNode("Softmax", inputs: [("x", x)], attributes: ["axis": .i(-2)])
        let c0 = exp(1.0) + exp(1.0), c1 = exp(2.0) + exp(1.0), c2 = exp(3.0) + exp(1.0)
        assertClose(col["y"], [exp(1.0) / c0, exp(2.0) / c1, exp(3.0) / c2, exp(1.0) / c0, exp(1.0) / c1, exp(1.0) / c2].map { Float($0) })
        let log = try runNode("LogSoftmax", inputs: [("x", x)])
        assertClose(
            log["y"],
            [1 - Foundation.log(s), 2 - Foundation.log(s), 3 - Foundation.log(s)].map { Float($0) }
                + [Float](repeating: Float(-Foundation.log(3.0)), count: 3))
    }

    func testBatchNormalizationInference() throws {
        let x = t([1, 2, 3, 4], [1, 2, 2, 1])
        // channel 0: (x - 1)/2·2 + 0; channel 1: (x - 3)/1·1 + 1.
        let safe = try runNode(
            "BatchNormalization", inputs: [("x", x)],
            constants: ["s": t([2, 1], [2]), "b": t([0, 1], [2]), "m": t([1, 3], [2]), "v": t([4, 1], [2])],
            nodeInputs: ["x", "s", "b", "m", "v"], attributes: ["epsilon": .f(0)])
        assertClose(safe["y"], [0, 1, 1, 2])
        XCTAssertThrowsError(
            try runNode(
                "BatchNormalization", inputs: [("x", x)],
                constants: ["s": t([2, 1], [2]), "b": t([0, 1], [2]), "m": t([1, 3], [2]), "v": t([4, 1], [2])],
                nodeInputs: ["x", "s", "b", "m", "v"], attributes: ["training_mode": .i(1)])
        ) { e in
            XCTAssertTrue("\(e)".contains("training_mode"), "\(e)")
        }
    }

    func testInstanceAndLayerNormalization() throws {
        let x = t([1, 3, 2, 6], [1, 2, 2])
        // Instance: per channel mean/var: ch0 {1,3} → ±1; ch1 {2,6} → ±1.
        let inst = try runNode(
            "InstanceNormalization", inputs: [("x", x)], constants: ["s": t([1, 2], [2]), "b": t([0, 10], [2])],
            nodeInputs: ["x", "s", "b"], attributes: ["epsilon": .f(0)])
        assertClose(inst["y"], [-1, 1, 8, 12])
        // Layer over the last axis, scale [2] and bias [2].
        let ln = try runNode(
            "LayerNormalization", inputs: [("x", x)], constants: ["s": t([1, 2], [2]), "b": t([0, 1], [2])],
            nodeInputs: ["x", "s", "b"], attributes: ["epsilon": .f(0)])
        assertClose(ln["y"], [-1, 3, -1, 3])
        // axis 1 normalizes all four values: mean 3, var 3.5.
        let all = try runNode(
            "LayerNormalization", inputs: [("x", x)], constants: ["s": t([1], [1])], nodeInputs: ["x", "s"],
            attributes: ["epsilon": .f(0), "axis": .i(1)])
        let sd = Float(3.5).squareRoot()
        assertClose(all["y"], [-2 / sd, 0, -1 / sd, 3 / sd])
    }
}
