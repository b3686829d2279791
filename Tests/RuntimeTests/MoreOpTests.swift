import Foundation
import ModelIR
import Runtime
import XCTest

/// The remaining ops and attribute corners, by hand.
final class MoreOpTests: XCTestCase {
    func testLogicAndSignOps() throws {
        let a = try Tensor(bools: [true, true, false, false], shape: [4]), b = try Tensor(bools: [true, false, true, false], shape: [4])
        XCTAssertEqual(try runNode("And", inputs: [("a", a), ("b", b)])["y"]?.bools, [true, false, false, false])
        XCTAssertEqual(try runNode("Or", inputs: [("a", a), ("b", b)])["y"]?.bools, [true, true, true, false])
        XCTAssertEqual(try runNode("Xor", inputs: [("a", a), ("b", b)])["y"]?.bools, [false, true, true, false])
        XCTAssertEqual(try runNode("Not", inputs: [("a", a)])["y"]?.bools, [false, false, true, true])
        XCTAssertEqual(
            try runNode("GreaterOrEqual", inputs: [("a", ti([1, 2, 3], [3])), ("b", ti([2], []))])["y"]?.bools, [false, true, true])
        assertClose(try runNode("Sign", inputs: [("x", t([-2, 0, 3], [3]))])["y"], [-1, 0, 1])
        assertClose(
            try runNode("Elu", inputs: [("x", t([-1, 2], [2]))], attributes: ["alpha": .f(2)])["y"], [Float(2 * (exp(-1.0) - 1)), 2])
        assertClose(try runNode("Softplus", inputs: [("x", t([0, 30], [2]))])["y"], [Float(log(2.0)), 30])
        assertClose(try runNode("Hardmax", inputs: [("x", t([1, 3, 3, 0, -1, -2], [2, 3]))])["y"], [0, 1, 0, 1, 0, 0])
    }

    func testMoreReductionsAndArgMin() throws {
        let x = t([1, -2, 3, -4], [2, 2])
        assertClose(try runNode("ReduceL1", inputs: [("x", x)], attributes: ["keepdims": .i(0)])["y"], [10], shape: [])
        assertClose(
            try runNode("ReduceL2", inputs: [("x", x)], constants: ["a": ti([1], [1])], nodeInputs: ["x", "a"])["y"],
            [Float(5.0.squareRoot()), 5], shape: [2, 1])
        assertClose(try runNode("ReduceProd", inputs: [("x", x)], constants: ["a": ti([0], [1])], nodeInputs: ["x", "a"])["y"], [3, 8])
        assertClose(try runNode("ReduceMin", inputs: [("x", x)], constants: ["a": ti([0], [1])], nodeInputs: ["x", "a"])["y"], [1, -4])
        assertClose(try runNode("ReduceSumSquare", inputs: [("x", x)])["y"], [30], shape: [1, 1])
        XCTAssertEqual(
            try runNode(
                "ReduceSum", inputs: [("x", ti([1, 2, 3, 4], [2, 2]))], constants: ["a": ti([1], [1])],
                nodeInputs: ["x", "a"], attributes: ["keepdims": .i(0)])["y"]?.int64s, [3, 7])
        XCTAssertEqual(try runNode("ArgMin", inputs: [("x", x)], attributes: ["axis": .i(0)])["y"]?.int64s, [0, 1])
    }

    func testSplitUnevenGatherInt32TransposePermDropoutMask() throws {
        let x = t((0..<5).map(Float.init), [5])
        let s = try runNode("Split", inputs: [("x", x)], attributes: ["num_outputs": .i(3)], outputs: ["a", "b", "c"])
        assertClose(s["a"], [0, 1])
        assertClose(s["b"], [2, 3])
        assertClose(s["c"], [4])
        let g = try runNode("Gather", inputs: [("x", x), ("i", try Tensor(int32s: [4, -5], shape: [1, 2]))])
        assertClose(g["y"], [4, 0], shape: [1, 2])
        let cube = t((0..<24).map(Float.init), [2, 3, 4])
        let tr = try runNode("Transpose", inputs: [("x", cube)], attributes: ["perm": .is([1, 2, 0])])
        XCTAssertEqual(tr["y"]?.shape, [3, 4, 2])
        // y[i, j, k] = x[k, i, j]: y[1, 2, 1] = x[1, 1, 2] = 12 + 4 + 2.
        XCTAssertEqual(tr["y"]?.floats?[(1 * 4 + 2) * 2 + 1], 18)
        let d = try runNode("Dropout", inputs: [("x", x)], outputs: ["y", "m"])
        assertClose(d["y"], (0..<5).map(Float.init))
        XCTAssertEqual(d["m"]?.bools, [Bool](repeating: true, count: 5))
        XCTAssertThrowsError(try runNode("Transpose", inputs: [("x", cube)], attributes: ["perm": .is([0, 0, 1])])) { e in
            XCTAssertTrue("\(e)".contains("not a permutation"), "\(e)")
        }
    }

    func testCastAcrossTypes() throws {
        let c32 = try runNode("Cast", inputs: [("x", ti([300, -1], [2]))], attributes: ["to": .s("uint8")])
        XCTAssertEqual(c32["y"]?.uint8s, [44, 255])  // wraps like C
        let f = try runNode("Cast", inputs: [("x", try Tensor(bools: [true, false], shape: [2]))], attributes: ["to": .s("float32")])
        assertClose(f["y"], [1, 0])
        let d = try runNode("Cast", inputs: [("x", t([0.5], [1]))], attributes: ["to": .s("float64")])
        XCTAssertEqual(d["y"]?.doubles, [0.5])
        XCTAssertThrowsError(try runNode("Cast", inputs: [("x", t([1], [1]))], attributes: ["to": .s("string")]))
    }

    /// The direct int32/int8/uint8 → float32 loops: every value rounds to the nearest float,
    /// ties to even (2²⁴ + 1 → 2²⁴, 2²⁴ + 3 → 2²⁴ + 4), over more values than a vector holds.
    func testIntegerToFloatCastsRoundToNearest() throws {
        let ints: [Int32] = (0..<37).map { Int32($0) - 18 } + [16_777_217, 16_777_219, -16_777_217, .max, .min]
        let c = try runNode("Cast", inputs: [("x", try Tensor(int32s: ints, shape: [ints.count]))], attributes: ["to": .s("float32")])
        XCTAssertEqual(c["y"]?.floats, ints.map { Float($0) })
        XCTAssertEqual(Array((c["y"]?.floats ?? []).suffix(5)), [16_777_216, 16_777_220, -16_777_216, 2_147_483_648, -2_147_483_648])
        let bytes: [UInt8] = (0..<40).map { UInt8($0 * 6 + 15) }
        let u = try runNode("Cast", inputs: [("x", tu8(bytes, [bytes.count]))], attributes: ["to": .s("float32")])
        XCTAssertEqual(u["y"]?.floats, bytes.map { Float($0) })
        let signed: [Int8] = (0..<40).map { Int8(truncatingIfNeeded: $0 * 7 - 128) }
        let s8 = try runNode("Cast", inputs: [("x", ts8(signed, [signed.count]))], attributes: ["to": .s("float32")])
        XCTAssertEqual(s8["y"]?.floats, signed.map { Float($0) })
    }

    func testUnknownDomainIsUnsupported() {
        XCTAssertThrowsError(try runNode("Relu", domain: "com.example", inputs: [("x", t([1], [1]))])) { e in
            XCTAssertTrue("\(e)".contains("com.example:Relu"), "\(e)")
        }
    }
}
