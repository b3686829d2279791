import ModelIR
import Runtime
import XCTest

/// Data movement, shape ops, indexing, reductions and casts, by hand.
final class TensorOpTests: XCTestCase {
    let x23 = t([0, 1, 2, 3, 4, 5], [2, 3])

    func testReshapeFlattenSqueezeUnsqueeze() throws {
        let r = try runNode("Reshape", inputs: [("x", x23)], constants: ["s": ti([0, -1, 1], [3])], nodeInputs: ["x", "s"])
        XCTAssertEqual(r["y"]?.shape, [2, 3, 1])
        XCTAssertEqual(
            try runNode(
                "Flatten", inputs: [("x", t([Float](repeating: 1, count: 24), [2, 3, 4]))],
                attributes: ["axis": .i(-1)])["y"]?.shape, [6, 4])
        XCTAssertEqual(
            try runNode(
                "Squeeze", inputs: [("x", t([1, 2], [1, 2, 1]))], constants: ["a": ti([-1], [1])],
                nodeInputs: ["x", "a"])["y"]?.shape, [1, 2])
        XCTAssertEqual(
            try runNode(
                "Unsqueeze", inputs: [("x", x23)], constants: ["a": ti([0, -1], [2])],
                nodeInputs: ["x", "a"])["y"]?.shape, [1, 2, 3, 1])
        XCTAssertThrowsError(try runNode("Reshape", inputs: [("x", x23)], constants: ["s": ti([4, -1], [2])], nodeInputs: ["x", "s"]))
    }

    func testTransposeConcatSplit() throws {
        assertClose(try runNode("Transpose", inputs: [("x", x23)])["y"], [0, 3, 1, 4, 2, 5], shape: [3, 2])
        let c = try runNode("Concat", inputs: [("a", x23), ("b", t([9, 9], [2, 1]))], attributes: ["axis": .i(-1)])
        assertClose(c["y"], [0, 1, 2, 9, 3, 4, 5, 9], shape: [2, 4])
        let s = try runNode(
            "Split", inputs: [("x", x23)], constants: ["s": ti([1, 2], [2])], nodeInputs: ["x", "s"],
            attributes: ["axis": .i(1)], outputs: ["a", "b"])
        assertClose(s["a"], [0, 3], shape: [2, 1])
        assertClose(s["b"], [1, 2, 4, 5], shape: [2, 2])
    }

    func testSliceNegativeStepsAndClamping() throws {
        let x = t((0..<10).map(Float.init), [10])
        func slice(_ s: Int64, _ e: Int64, _ step: Int64) throws -> Tensor? {
            try runNode(
                "Slice", inputs: [("x", x)], constants: ["s": ti([s], [1]), "e": ti([e], [1]), "a": ti([0], [1]), "p": ti([step], [1])],
                nodeInputs: ["x", "s", "e", "a", "p"])["y"]
        }
        assertClose(try slice(1, 8, 3), [1, 4, 7])
        assertClose(try slice(-1, -11, -4), [9, 5, 1])
        assertClose(try slice(2, Int64.max, 1), (2..<10).map(Float.init))
        assertClose(try slice(8, 2, 1), [])
    }

    func testPadModes() throws {
        let x = t([1, 2, 3], [1, 3])
        func pad(_ mode: String) throws -> Tensor? {
            try runNode(
                "Pad", inputs: [("x", x)], constants: ["p": ti([0, 2, 0, 2], [4]), "v": t([7], [])],
                nodeInputs: ["x", "p", "v"], attributes: ["mode": .s(mode)])["y"]
        }
        assertClose(try pad("constant"), [7, 7, 1, 2, 3, 7, 7])
        assertClose(try pad("reflect"), [3, 2, 1, 2, 3, 2, 1])
        assertClose(try pad("edge"), [1, 1, 1, 2, 3, 3, 3])
        assertClose(try pad("wrap"), [2, 3, 1, 2, 3, 1, 2])
        // Negative pads crop; axes select which dimensions the pads refer to.
        let crop = try runNode(
            "Pad", inputs: [("x", x)], constants: ["p": ti([-1, 1], [2]), "a": ti([-1], [1])],
            nodeInputs: ["x", "p", "", "a"])
        assertClose(crop["y"], [2, 3, 0], shape: [1, 3])
    }

    func testExpandTileGather() throws {
        assertClose(
            try runNode(
                "Expand", inputs: [("x", t([1, 2], [2, 1]))], constants: ["s": ti([2, 3], [2])],
                nodeInputs: ["x", "s"])["y"], [1, 1, 1, 2, 2, 2], shape: [2, 3])
        assertClose(
            try runNode(
                "Tile", inputs: [("x", t([1, 2], [1, 2]))], constants: ["r": ti([2, 2], [2])],
                nodeInputs: ["x", "r"])["y"], [1, 2, 1, 2, 1, 2, 1, 2], shape: [2, 4])
        let g = try runNode("Gather", inputs: [("x", x23), ("i", ti([-1, 0], [2]))], attributes: ["axis": .i(1)])
        assertClose(g["y"], [2, 0, 5, 3], shape: [2, 2])
        // An index out of range is a run-time error naming the node, never an out-of-bounds read.
        XCTAssertThrowsError(try runNode("Gather", inputs: [("x", x23), ("i", ti([3], [1]))])) { e in
            XCTAssertTrue("\(e)".contains("Gather node 'n'") && "\(e)".contains("out of range"), "\(e)")
        }
    }

    func testReductionsKeepdimsAndNoop() throws {
        let mean = try runNode("ReduceMean", inputs: [("x", x23)], constants: ["a": ti([1], [1])], nodeInputs: ["x", "a"])
        assertClose(mean["y"], [1, 4], shape: [2, 1])
        let sum = try runNode(
            "ReduceSum", inputs: [("x", x23)], constants: ["a": ti([-2], [1])], nodeInputs: ["x", "a"],
            attributes: ["keepdims": .i(0)])
        assertClose(sum["y"], [3, 5, 7], shape: [3])
        assertClose(try runNode("ReduceMax", inputs: [("x", x23)], attributes: ["keepdims": .i(0)])["y"], [5], shape: [])
        let noop = try runNode("ReduceSum", inputs: [("x", x23)], attributes: ["noop_with_empty_axes": .i(1)])
        assertClose(noop["y"], [0, 1, 2, 3, 4, 5], shape: [2, 3])
        let lse = try runNode("ReduceLogSumExp", inputs: [("x", t([0, 0], [2]))])
        assertClose(lse["y"], [Float(0.6931472)], shape: [1])
    }

    func testArgMaxTopKCumSumRange() throws {
        let x = t([1, 3, 3, 0], [2, 2])
        XCTAssertEqual(try runNode("ArgMax", inputs: [("x", x)], attributes: ["axis": .i(1)])["y"]?.int64s, [1, 0])
        XCTAssertEqual(
            try runNode(
                "ArgMax", inputs: [("x", t([3, 1, 3], [3]))],
                attributes: [
                    "select_last_index": .i(1),
                    "keepdims": .i(0),
                ])["y"]?.int64s, [2])
        let top = try runNode(
            "TopK", inputs: [("x", t([1, 5, 3, 5, 2], [5]))], constants: ["k": ti([3], [1])], nodeInputs: ["x", "k"],
            outputs: ["v", "i"])
        assertClose(top["v"], [5, 5, 3])
        XCTAssertEqual(top["i"]?.int64s, [1, 3, 2])
        let cs = try runNode(
            "CumSum", inputs: [("x", t([1, 2, 3], [3]))], constants: ["a": ti([0], [])], nodeInputs: ["x", "a"],
            attributes: ["exclusive": .i(1), "reverse": .i(1)])
        assertClose(cs["y"], [5, 3, 0])
        let r = try runNode(
            "Range", inputs: [], constants: ["a": ti([10], []), "b": ti([1], []), "c": ti([-3], [])], nodeInputs: ["a", "b", "c"])
        XCTAssertEqual(r["y"]?.int64s, [10, 7, 4])
    }

    func testCastSaturatesAndShapeIsPlanTime() throws {
        let c = try runNode("Cast", inputs: [("x", t([1.9, -1.9, .nan, 1e30], [4]))], attributes: ["to": .s("int64")])
        XCTAssertEqual(c["y"]?.int64s, [1, -1, 0, Int64.max])
        let b = try runNode("Cast", inputs: [("x", t([0, 2], [2]))], attributes: ["to": .s("bool")])
        XCTAssertEqual(b["y"]?.bools, [false, true])
        let shape = try runNode("Shape", inputs: [("x", x23)], attributes: ["start": .i(-1)])
        XCTAssertEqual(shape["y"]?.int64s, [3])
        let cos = try runNode(
            "ConstantOfShape", inputs: [], constants: ["s": ti([2, 2], [2])], nodeInputs: ["s"],
            attributes: ["value": .tensor(ti([4], [1]))])
        XCTAssertEqual(cos["y"]?.int64s, [4, 4, 4, 4])
    }

    func testArrayFeatureExtractorFollowsOnnxRuntimeShapes() throws {
        let out = try runNode(
            "ArrayFeatureExtractor", domain: "ai.onnx.ml", inputs: [("i", ti([2, 0], [2, 1]))],
            constants: ["x": ti([10, 20, 30], [3])], nodeInputs: ["x", "i"])
        XCTAssertEqual(out["y"]?.shape, [1, 2])
        XCTAssertEqual(out["y"]?.int64s, [30, 10])
    }

    func testIfRunsTheChosenBranch() throws {
        let thenG = Graph(
            name: "then", nodes: [Node(name: "t", opType: "Add", inputs: ["x", "x"], outputs: ["o"])],
            outputs: [ValueInfo("o", TensorType(.float32, nil))])
        let elseG = Graph(
            name: "else", nodes: [Node(name: "e", opType: "Neg", inputs: ["x"], outputs: ["o2"])],
            outputs: [ValueInfo("o2", TensorType(.float32, nil))])
        let node = Node(
            name: "if", opType: "If", inputs: ["c"], outputs: ["y"],
            attributes: ["then_branch": .graph(thenG), "else_branch": .graph(elseG)])
        let g = Graph(
            nodes: [node], inputs: [ValueInfo("c", TensorType(.bool, [])), ValueInfo("x", TensorType(.float32, [2]))],
            outputs: [ValueInfo("y", TensorType(.float32, nil))])
        let session = try ExecutionPlan(graph: g).makeSession()
        let x = t([1, -2], [2])
        assertClose(try session.run(inputs: ["c": try Tensor(bools: [true], shape: []), "x": x])["y"], [2, -4])
        assertClose(try session.run(inputs: ["c": try Tensor(bools: [false], shape: []), "x": x])["y"], [-1, 2])
    }

    /// A branch reading an intermediate of the enclosing graph keeps it alive until the If runs,
    /// even when a larger buffer could otherwise have reused its bytes.
    func testIfBranchCapturesOuterIntermediate() throws {
        let thenG = Graph(
            name: "then",
            nodes: [
                Node(name: "t1", opType: "Reshape", inputs: ["a", "s"], outputs: ["r"]),
                Node(name: "t2", opType: "Mul", inputs: ["r", "r"], outputs: ["o"]),
            ], outputs: [ValueInfo("o", TensorType(.float32, nil))], initializers: ["s": ti([2, 2], [2])])
        let elseG = Graph(
            name: "else", nodes: [Node(name: "e", opType: "Reshape", inputs: ["a", "s2"], outputs: ["o2"])],
            outputs: [ValueInfo("o2", TensorType(.float32, nil))], initializers: ["s2": ti([2, 2], [2])])
        let g = Graph(
            nodes: [
                Node(name: "relu", opType: "Relu", inputs: ["x"], outputs: ["a"]),
                Node(name: "big", opType: "Tile", inputs: ["x", "reps"], outputs: ["b"]),
                Node(name: "sum", opType: "ReduceSum", inputs: ["b"], outputs: ["bs"], attributes: ["keepdims": .int(0)]),
                Node(
                    name: "if", opType: "If", inputs: ["c"], outputs: ["y"],
                    attributes: ["then_branch": .graph(thenG), "else_branch": .graph(elseG)]),
            ],
            inputs: [ValueInfo("c", TensorType(.bool, [])), ValueInfo("x", TensorType(.float32, [4]))],
            outputs: [ValueInfo("y", TensorType(.float32, nil)), ValueInfo("bs", TensorType(.float32, nil))],
            initializers: ["reps": ti([64], [1])])
        let session = try ExecutionPlan(graph: g).makeSession()
        let x = t([-1, 2, -3, 4], [4])
        let yes = try session.run(inputs: ["c": try Tensor(bools: [true], shape: []), "x": x])
        assertClose(yes["y"], [0, 4, 0, 16], shape: [2, 2])
        assertClose(yes["bs"], [128], shape: [])
        let no = try session.run(inputs: ["c": try Tensor(bools: [false], shape: []), "x": x])
        assertClose(no["y"], [0, 2, 0, 4], shape: [2, 2])
    }
}
