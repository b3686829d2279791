import ModelIR
import Runtime
import TestSupport
import XCTest

/// Ops added in round 2, each against values computed by hand (or by a property the op must
/// have), plus a bad-input case where the op can fail at run time.
final class AddedOpTests: XCTestCase {
    func testModFollowsPythonOrCSigns() throws {
        let a = ti([7, -7, 7, -7], [4]), b = ti([3, 3, -3, -3], [4])
        let py = try runNode("Mod", inputs: [("a", a), ("b", b)])["y"]
        XCTAssertEqual(py?.asInt64s, [1, 2, -2, -1])
        let c = try runNode("Mod", inputs: [("a", a), ("b", b)], attributes: ["fmod": .i(1)])["y"]
        XCTAssertEqual(c?.asInt64s, [1, -1, 1, -1])
        let f = try runNode("Mod", inputs: [("a", t([5.5, -5.5], [2])), ("b", t([2, 2], [2]))])["y"]
        assertClose(f, [1.5, 0.5])
        XCTAssertEqual(try runNode("Mod", inputs: [("a", ti([5], [1])), ("b", ti([0], [1]))])["y"]?.asInt64s, [0], "÷0 gives 0")
    }

    func testSumMeanAndActivations() throws {
        let a = t([1, 2], [2]), b = t([3, 4], [2]), c = t([5], [1])
        assertClose(try runNode("Sum", inputs: [("a", a), ("b", b), ("c", c)])["y"], [9, 11])
        assertClose(try runNode("Mean", inputs: [("a", a), ("b", b), ("c", c)])["y"], [3, 11.0 / 3])
        let v = t([-1, 0, 2], [3])
        assertClose(try runNode("Softsign", inputs: [("x", v)])["y"], [-0.5, 0, 2.0 / 3])
        assertClose(try runNode("ThresholdedRelu", inputs: [("x", v)], attributes: ["alpha": .f(1)])["y"], [0, 0, 2])
        assertClose(try runNode("Celu", inputs: [("x", v)])["y"], [Float(Foundation.exp(-1.0) - 1), 0, 2])
        assertClose(try runNode("Gelu", inputs: [("x", v)])["y"], [-0.158655254, 0, 1.954499736])
        assertClose(
            try runNode("Gelu", inputs: [("x", v)], attributes: ["approximate": .s("tanh")])["y"], [-0.158808, 0, 1.954598], tol: 1e-5)
        let special = t([.nan, .infinity, -.infinity, 1], [4])
        XCTAssertEqual(try runNode("IsNaN", inputs: [("x", special)])["y"]?.bools, [true, false, false, false])
        XCTAssertEqual(
            try runNode("IsInf", inputs: [("x", special)], attributes: ["detect_positive": .i(0)])["y"]?.bools, [false, false, true, false])
    }

    func testGatherAndScatterElements() throws {
        let data = t([1, 2, 3, 4], [2, 2])
        let g = try runNode("GatherElements", inputs: [("d", data), ("i", ti([0, 0, 1, 0], [2, 2]))], attributes: ["axis": .i(1)])
        assertClose(g["y"], [1, 1, 4, 3], shape: [2, 2])
        XCTAssertThrowsError(try runNode("GatherElements", inputs: [("d", data), ("i", ti([0, 2, 1, 0], [2, 2]))])) { e in
            guard case RuntimeError.executionFailed = e else { return XCTFail("\(e)") }
        }
        // Duplicates accumulate with reduction = add: row 0 gets 10 + 20 at column 1.
        let s = try runNode(
            "ScatterElements", inputs: [("d", data), ("i", ti([1, 1], [1, 2])), ("u", t([10, 20], [1, 2]))],
            attributes: ["axis": .i(1), "reduction": .s("add")])
        assertClose(s["y"], [1, 32, 3, 4])
    }

    func testGatherAndScatterND() throws {
        // ONNX spec example 4 (batch_dims = 1).
        let data = t([0, 1, 2, 3, 4, 5, 6, 7], [2, 2, 2])
        let g = try runNode("GatherND", inputs: [("d", data), ("i", ti([1, 0], [2, 1]))], attributes: ["batch_dims": .i(1)])
        assertClose(g["y"], [2, 3, 4, 5], shape: [2, 2])
        let s = try runNode(
            "ScatterND",
            inputs: [("d", t([1, 2, 3, 4, 5, 6, 7, 8], [8])), ("i", ti([4, 3, 1, 7], [4, 1])), ("u", t([9, 10, 11, 12], [4]))])
        assertClose(s["y"], [1, 11, 3, 10, 9, 6, 7, 12])
    }

    func testDepthToSpaceAndBack() throws {
        var rng = SplitMix64(seed: 7)
        let x = t(rng.floats(2 * 8 * 3 * 2), [2, 8, 3, 2])
        for mode in ["DCR", "CRD"] {
            let up = try runNode("DepthToSpace", inputs: [("x", x)], attributes: ["blocksize": .i(2), "mode": .s(mode)])["y"]
            XCTAssertEqual(up?.shape, [2, 2, 6, 4])
            guard let up else { return XCTFail("no output") }
            let back = try runNode("SpaceToDepth", inputs: [("x", up)], attributes: ["blocksize": .i(2), "mode": .s(mode)])["y"]
            assertClose(back, x.floats ?? [], shape: x.shape, tol: 0, mode)
        }
        // DCR by hand: C = 4 → 1 channel, each 2×2 block reads channels 0, 1, 2, 3.
        let d = try runNode("DepthToSpace", inputs: [("x", t([0, 1, 2, 3], [1, 4, 1, 1]))], attributes: ["blocksize": .i(2)])["y"]
        assertClose(d, [0, 1, 2, 3], shape: [1, 1, 2, 2])
    }

    func testTriluAndOneHot() throws {
        let m = t([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3])
        assertClose(
            try runNode("Trilu", inputs: [("x", m)], constants: ["k": ti([1], [])], nodeInputs: ["x", "k"])["y"],
            [0, 2, 3, 0, 0, 6, 0, 0, 0])
        assertClose(try runNode("Trilu", inputs: [("x", m)], attributes: ["upper": .i(0)])["y"], [1, 0, 0, 4, 5, 0, 7, 8, 9])
        // Index -1 counts from the end; 5 is outside [-3, 3) and gives an all-off row.
        let o = try runNode(
            "OneHot", inputs: [("i", ti([0, -1, 5], [3]))], constants: ["d": ti([3], []), "v": t([0, 1], [2])], nodeInputs: ["i", "d", "v"])
        assertClose(o["y"], [1, 0, 0, 0, 0, 1, 0, 0, 0], shape: [3, 3])
        let axis0 = try runNode(
            "OneHot", inputs: [("i", ti([2, 0], [2]))], constants: ["d": ti([3], []), "v": t([-1, 7], [2])], nodeInputs: ["i", "d", "v"],
            attributes: ["axis": .i(0)])
        assertClose(axis0["y"], [-1, 7, -1, -1, 7, -1], shape: [3, 2])
    }

    func testNormalizations() throws {
        // RMS of [3, 4] is √12.5.
        let r = try runNode(
            "RMSNormalization", inputs: [("x", t([3, 4], [1, 2]))], constants: ["s": t([1, 2], [2])], nodeInputs: ["x", "s"],
            attributes: ["epsilon": .f(0)])
        assertClose(r["y"], [3 / 12.5.squareRoot(), 8 / 12.5.squareRoot()].map(Float.init))
        // Two groups of two channels (one pixel each): [1, 3] and [10, 20], each to ±1.
        let g = try runNode(
            "GroupNormalization", inputs: [("x", t([1, 3, 10, 20], [1, 4, 1]))],
            constants: ["s": t([1, 1, 2, 2], [4]), "b": t([0, 0, 0, 1], [4])], nodeInputs: ["x", "s", "b"],
            attributes: ["num_groups": .i(2), "epsilon": .f(0)])
        assertClose(g["y"], [-1, 1, -2, 3])
        let l = try runNode("LpNormalization", inputs: [("x", t([3, 4, 0, 0], [2, 2]))], attributes: ["p": .i(2)])
        assertClose(l["y"], [0.6, 0.8, 0, 0])
        let ln = try runNode(
            "LayerNormalization", inputs: [("x", t([1, 3, 2, 2], [2, 2]))], constants: ["s": t([1, 1], [2])],
            nodeInputs: ["x", "s"], attributes: ["epsilon": .f(0)], outputs: ["y", "mean", "inv"])
        assertClose(ln["mean"], [2, 2], shape: [2, 1])
        XCTAssertEqual(ln["inv"]?.floats?.first, 1)
        XCTAssertEqual(ln["inv"]?.floats?.last, .infinity, "a constant row has zero variance")
    }

    func testPowWithMixedTypesAndEmptyReductions() throws {
        let p = try runNode("Pow", inputs: [("a", t([2, 3], [2])), ("b", ti([3, 2], [2]))])["y"]
        assertClose(p, [8, 9])
        let q = try runNode("Pow", inputs: [("a", ti([2, 3], [2])), ("b", t([0.5, 2], [2]))])["y"]
        XCTAssertEqual(q?.asInt64s, [1, 9], "int base, float exponent: truncated like numpy's astype")
        let e = try runNode("ReduceMax", inputs: [("x", t([], [2, 0]))], attributes: ["axes": .is([1])])["y"]
        XCTAssertEqual(e?.floats, [-.infinity, -.infinity])
        let m = try runNode("ReduceMin", inputs: [("x", t([], [2, 0]))], attributes: ["axes": .is([1]), "keepdims": .i(0)])["y"]
        XCTAssertEqual(m?.floats, [.infinity, .infinity])
    }

    func testConvTransposeOutputShapePastTheFullOutputPads() throws {
        // 1×1×2 input, 1×1×2 kernel, stride 1: the full output is [1, 12, 20] + bias 0.5. The
        // total padding -1 goes at the end, -2 splits -1/-1 (ONNX's floor division): the extra
        // elements hold the bias only.
        func run(_ size: Int) throws -> Tensor? {
            try runNode(
                "ConvTranspose", inputs: [("x", t([1, 2], [1, 1, 2]))], constants: ["w": t([1, 10], [1, 1, 2]), "b": t([0.5], [1])],
                nodeInputs: ["x", "w", "b"], attributes: ["output_shape": .is([size])])["y"]
        }
        assertClose(try run(4), [1.5, 12.5, 20.5, 0.5], shape: [1, 1, 4])
        assertClose(try run(5), [0.5, 1.5, 12.5, 20.5, 0.5], shape: [1, 1, 5])
    }

    func testNodeProblemKinds() {
        func kinds(_ op: String, _ x: Tensor, attributes: [String: Attribute] = [:], nodeInputs: [String]? = nil) -> [RuntimeError
            .NodeProblem.Kind]
        {
            do {
                _ = try runNode(op, inputs: [("x", x), ("s", ti([2], [1]))], nodeInputs: nodeInputs ?? ["x"], attributes: attributes)
                return []
            } catch RuntimeError.planFailed(let ps) {
                return ps.map(\.kind)
            } catch {
                return []
            }
        }
        let x = t([1, 2], [1, 2])
        XCTAssertEqual(kinds("FlotillaNoSuchOp", x), [.unsupportedOp])
        let half = (try? Tensor(elementType: .float16, shape: [2], bytes: [0, 0, 0, 0])) ?? x
        XCTAssertEqual(kinds("Relu", half), [.unsupportedElementType(.float16)])
        XCTAssertEqual(kinds("Reshape", x, nodeInputs: ["x", "s"]), [.dataDependentShape(value: "s")])
        XCTAssertEqual(
            kinds("Resize", t([1, 2, 3, 4], [1, 1, 2, 2]), attributes: ["mode": .s("lanczos")], nodeInputs: ["x", "", "", "s"]),
            [.unsupportedAttribute("mode")])
        XCTAssertEqual(kinds("Softmax", x, attributes: ["axis": .i(5)]), [.invalid])
    }
}

/// The per-step profile hook.
final class StepProfileTests: XCTestCase {
    func testProfileTimesEveryStepOfTheRun() throws {
        let relu = Node(name: "r", opType: "Relu", inputs: ["x"], outputs: ["h"])
        let neg = Node(name: "n", opType: "Neg", inputs: ["h"], outputs: ["y"])
        let graph = Graph(
            nodes: [relu, neg], inputs: [ValueInfo("x", TensorType(.float32, [1, 4]))], outputs: [ValueInfo("y", TensorType(.float32, nil))]
        )
        let plan = try ExecutionPlan(graph: graph)
        XCTAssertEqual(plan.steps.map(\.node), ["r", "n"])
        XCTAssertEqual(plan.steps.map(\.opType), ["Relu", "Neg"])
        XCTAssertEqual(plan.steps.first?.outputs, [ValueType(.float32, [1, 4])])
        let session = plan.makeSession()
        var profile = plan.makeProfile()
        let out = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 16)
        defer { out.deallocate() }
        let x = t([-1, 2, -3, 4], [1, 4])
        for _ in 0..<3 { try session.run(inputs: ["x": x], outputs: ["y": out], profile: &profile) }
        XCTAssertEqual(profile.runs, 3)
        XCTAssertEqual(profile.lastNanoseconds.count, 2)
        for i in 0..<2 {
            XCTAssertGreaterThan(profile.lastNanoseconds[i], 0)
            XCTAssertGreaterThanOrEqual(profile.totalNanoseconds[i], profile.lastNanoseconds[i])
        }
        XCTAssertEqual(Array(out.bindMemory(to: Float.self)), [0, -2, 0, -4], "a profiled run computes the same outputs")
        var wrong = StepProfile(steps: [])
        XCTAssertThrowsError(try session.run(inputs: ["x": x], outputs: ["y": out], profile: &wrong))
    }
}

/// MatMul + bias Add planned as one Gemm step.
final class MatMulBiasFusionTests: XCTestCase {
    func graph(exposeProduct: Bool) -> Graph {
        let mm = Node(name: "mm", opType: "MatMul", inputs: ["x", "w"], outputs: ["p"])
        let add = Node(name: "add", opType: "Add", inputs: ["p", "b"], outputs: ["y"], fusedActivation: .relu)
        var outputs = [ValueInfo("y", TensorType(.float32, nil))]
        if exposeProduct { outputs.append(ValueInfo("p", TensorType(.float32, nil))) }
        return Graph(
            nodes: [mm, add], inputs: [ValueInfo("x", TensorType(.float32, [2, 3]))], outputs: outputs,
            initializers: ["w": t([1, 0, 0, 1, 1, 1], [3, 2]), "b": t([10, -100], [2])])
    }

    func testLinearLayerIsOneStepWithTheSameValues() throws {
        let x = t([1, 2, 3, 4, 5, 6], [2, 3])
        let fused = try ExecutionPlan(graph: graph(exposeProduct: false), options: .init(threads: 1))
        XCTAssertEqual(fused.steps.map(\.opType), ["Gemm"])
        XCTAssertEqual(fused.steps.first?.node, "mm")
        // x·w = [[1+3, 2+3], [4+6, 5+6]] = [[4, 5], [10, 11]]; + b, then Relu.
        assertClose(try fused.makeSession().run(inputs: ["x": x])["y"], [14, 0, 20, 0], shape: [2, 2])
        // The product is needed on its own: no fusion, same result.
        let separate = try ExecutionPlan(graph: graph(exposeProduct: true), options: .init(threads: 1))
        XCTAssertEqual(separate.steps.map(\.opType), ["MatMul", "Add"])
        let out = try separate.makeSession().run(inputs: ["x": x])
        assertClose(out["y"], [14, 0, 20, 0])
        assertClose(out["p"], [4, 5, 10, 11])
    }
}
