import ModelIR
import Runtime
import TestSupport
import XCTest

/// int8 MaxPool / GlobalMaxPool on bytes: every output must be the byte the fp32 MaxPool picks
/// from the same values (an independent implementation: float compares, per-tap bounds tests).
final class QMaxPoolTests: XCTestCase {
    private struct Case {
        var spatial: [Int]
        var attributes: [String: Attribute]
    }

    private func randomCase(_ rng: inout SplitMix64) -> Case {
        let rank = rng.int(1...2)
        var kernel: [Int] = [], strides: [Int] = [], dilations: [Int] = [], begin: [Int] = [], end: [Int] = []
        var spatial: [Int] = []
        for _ in 0..<rank {
            let k = rng.int(1...3), d = rng.int(1...2)
            kernel.append(k)
            dilations.append(d)
            strides.append(rng.int(1...3))
            begin.append(rng.int(0...(k - 1)))
            end.append(rng.int(0...(k - 1)))
            spatial.append(rng.int(((k - 1) * d + 1)...9))
        }
        var attributes: [String: Attribute] = [
            "kernel_shape": .ints(kernel), "strides": .ints(strides), "dilations": .ints(dilations),
            "pads": .ints(begin + end),
        ]
        if rng.int(0...1) == 1 { attributes["ceil_mode"] = .int(1) }
        return Case(spatial: spatial, attributes: attributes)
    }

    func testMaxPoolOnBytesPicksTheFloatPoolsValues() throws {
        var rng = SplitMix64(seed: 0x6d61_7870)
        for trial in 0..<120 {
            let c = randomCase(&rng)
            let shape = [rng.int(1...2), rng.int(1...3)] + c.spatial
            let count = shape.reduce(1, *)
            let bytes = rng.bytes(count)
            let signed = trial % 2 == 1
            let node = Node(name: "m", opType: "MaxPool", inputs: ["x"], outputs: ["y"], attributes: c.attributes)
            let floats = bytes.map { signed ? Float(Int8(bitPattern: $0)) : Float($0) }
            let expected = try runGraph([node], inputs: [("x", tf(floats, shape))], constants: [:], outputs: ["y"])["y"]
            let input = signed ? ts8(bytes.map { Int8(bitPattern: $0) }, shape) : tu8(bytes, shape)
            for path in runnableInt8Paths() {
                let got = try runGraph([node], inputs: [("x", input)], constants: [:], outputs: ["y"], kernels: path)["y"]
                XCTAssertEqual(got?.elementType, signed ? .int8 : .uint8, "trial \(trial)")
                XCTAssertEqual(got?.shape, expected?.shape, "trial \(trial) \(c.attributes)")
                XCTAssertEqual(byteValues(got), (expected?.floats ?? []).map { Int64($0) }, "trial \(trial) \(shape) \(c.attributes)")
            }
        }
    }

    func testGlobalMaxPoolOnBytes() throws {
        var rng = SplitMix64(seed: 0x676d_6178)
        for signed in [false, true] {
            let shape = [2, 3, 5, 4]
            let bytes = rng.bytes(shape.reduce(1, *))
            let node = Node(name: "g", opType: "GlobalMaxPool", inputs: ["x"], outputs: ["y"])
            let values = bytes.map { signed ? Int64(Int8(bitPattern: $0)) : Int64($0) }
            let expected = (0..<6).map { p in values[(p * 20)..<((p + 1) * 20)].max() ?? 0 }
            let input = signed ? ts8(bytes.map { Int8(bitPattern: $0) }, shape) : tu8(bytes, shape)
            let got = try runGraph([node], inputs: [("x", input)], constants: [:], outputs: ["y"])["y"]
            XCTAssertEqual(got?.shape, [2, 3, 1, 1])
            XCTAssertEqual(byteValues(got), expected, "signed \(signed)")
        }
    }

    func testMaxPoolIndicesOnInt8KeepTheWidenedPath() throws {
        let x: [UInt8] = [5, 3, 200, 7, 1, 2, 3, 4, 255, 1, 0, 0, 9, 9, 8, 250]
        let node = Node(
            name: "m", opType: "MaxPool", inputs: ["x"], outputs: ["y", "i"],
            attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])])
        let out = try runGraph([node], inputs: [("x", tu8(x, [1, 1, 4, 4]))], constants: [:], outputs: ["y", "i"])
        XCTAssertEqual(out["y"]?.uint8s, [5, 200, 255, 250])
        XCTAssertEqual(out["i"]?.int64s, [0, 2, 8, 15])
    }
}
