import ModelIR
import Runtime
import TestSupport
import XCTest

/// Channels-last int8: com.microsoft:QLinearConv with channels_last = 1 (any geometry, on every
/// path) and the planner's `ChannelsLastPass`, which must change layouts only — the same bytes
/// as an all-NCHW plan on every path.
final class ChannelsLastTests: XCTestCase {
    /// NCHW [n, c, spatial…] bytes → NHWC [n, spatial…, c].
    static func toNHWC(_ v: [UInt8], n: Int, c: Int, pixels: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: v.count)
        for b in 0..<n { for ch in 0..<c { for p in 0..<pixels { out[(b * pixels + p) * c + ch] = v[(b * c + ch) * pixels + p] } } }
        return out
    }

    struct Conv {
        var n = 1, c = 8, h = 6, w = 5, m = 8, kh = 1, kw = 1, stride = 1, pad = 0, group = 1
        var xType: ElementType = .uint8
        var oneD = false
    }

    /// The conv as a QLinearConv node (NCHW) and as com.microsoft:QLinearConv channels_last.
    func constants(_ cs: Conv, seed: UInt64) -> (x: [UInt8], consts: [String: Tensor]) {
        var rng = SplitMix64(seed: seed)
        let x = rng.bytes(cs.n * cs.c * cs.h * cs.w)
        let wShape = cs.oneD ? [cs.m, cs.c / cs.group, cs.kw] : [cs.m, cs.c / cs.group, cs.kh, cs.kw]
        let w = rng.weights(wShape.reduce(1, *))
        let xz = cs.xType == .uint8 ? tu8([UInt8(120 + rng.int(0...20))], []) : ts8([Int8(rng.int(-10...10))], [])
        let consts: [String: Tensor] = [
            "xs": tf([0.02]), "xz": xz, "w": ts8(w, wShape),
            "ws": tf((0..<cs.m).map { _ in Float(0.001 + Double(rng.int(1...100)) * 0.0002) }, [cs.m]), "ys": tf([0.05]),
            "yz": tu8([100], []), "b": ts32((0..<cs.m).map { _ in Int32(rng.int(-5000...5000)) }, [cs.m]),
        ]
        return (x, consts)
    }

    func convNode(_ cs: Conv, channelsLast: Bool, input: String = "x", output: String = "y", name: String = "conv") -> Node {
        let spatial = cs.oneD ? 1 : 2
        var attributes: [String: Attribute] = [
            "strides": .ints(Array(repeating: cs.stride, count: spatial)), "pads": .ints(Array(repeating: cs.pad, count: 2 * spatial)),
            "group": .int(cs.group),
        ]
        if channelsLast { attributes["channels_last"] = .int(1) }
        return Node(
            name: name, opType: "QLinearConv", domain: channelsLast ? "com.microsoft" : "",
            inputs: [input, "xs", "xz", "w", "ws", "", "ys", "yz", "b"], outputs: [output], attributes: attributes,
            fusedActivation: .relu)
    }

    func testContribChannelsLastConvMatchesNCHWOnEveryPath() throws {
        let cases: [Conv] = [
            Conv(),  // pointwise: gemm_nhwc
            Conv(n: 2, c: 13, h: 3, w: 7, m: 21, xType: .int8),  // pointwise, odd sizes
            Conv(c: 12, h: 9, w: 8, m: 12, kh: 3, kw: 3, stride: 2, pad: 1, group: 12),  // depthwise: dwconv_nhwc
            Conv(n: 2, c: 5, h: 7, w: 7, m: 5, kh: 5, kw: 5, stride: 1, pad: 2, group: 5, xType: .int8),
            Conv(c: 4, h: 9, w: 8, m: 6, kh: 3, kw: 2, stride: 1, pad: 1, group: 2),  // grouped k×k: adapter
            Conv(c: 3, h: 10, w: 10, m: 16, kh: 3, kw: 3, stride: 2, pad: 1),  // the banded stem: adapter
            Conv(c: 8, h: 6, w: 6, m: 4, stride: 2),  // strided 1×1: adapter
            Conv(c: 6, h: 1, w: 9, m: 10, kw: 3, pad: 1, oneD: true),  // NWC
        ]
        for (k, cs) in cases.enumerated() {
            let (x, consts) = constants(cs, seed: UInt64(40 + k))
            let nchwShape = cs.oneD ? [cs.n, cs.c, cs.w] : [cs.n, cs.c, cs.h, cs.w]
            let nhwcShape = cs.oneD ? [cs.n, cs.w, cs.c] : [cs.n, cs.h, cs.w, cs.c]
            let xNHWC = Self.toNHWC(x, n: cs.n, c: cs.c, pixels: cs.h * cs.w)
            let tensor = { (v: [UInt8], s: [Int]) in cs.xType == .uint8 ? tu8(v, s) : ts8(v.map { Int8(bitPattern: $0) }, s) }
            let expected = try XCTUnwrap(
                runGraph(
                    [convNode(cs, channelsLast: false)], inputs: [("x", tensor(x, nchwShape))], constants: consts, outputs: ["y"],
                    kernels: .reference)["y"])
            let outShape = expected.shape
            let pixels = outShape.dropFirst(2).reduce(1, *)
            for path in runnableInt8Paths() {
                let y = try XCTUnwrap(
                    runGraph(
                        [convNode(cs, channelsLast: true)], inputs: [("x", tensor(xNHWC, nhwcShape))], constants: consts,
                        outputs: ["y"], kernels: path)["y"])
                XCTAssertEqual(y.shape, [outShape[0]] + outShape.dropFirst(2) + [outShape[1]], "case \(k) on \(path)")
                XCTAssertEqual(y.bytes, Self.toNHWC(expected.bytes, n: cs.n, c: cs.m, pixels: pixels), "case \(k) \(cs) on \(path)")
            }
        }
    }

    /// x → 1×1 expand → depthwise → 1×1 project → Add(project, x's 1×1) → graph output, with the
    /// depthwise output also a graph output and read by an NCHW MaxPool: the pass must insert
    /// exactly the transposes those readers need and give the NCHW plan's bytes.
    func testPassKeepsBytesAndInsertsOnlyBoundaryTransposes() throws {
        let (c, h, w, e) = (8, 10, 9, 24)
        var rng = SplitMix64(seed: 77)
        var consts: [String: Tensor] = ["s": tf([0.03]), "z": tu8([110], []), "ws": tf([0.004])]
        var nodes: [Node] = []
        func conv(_ name: String, _ input: String, _ cin: Int, _ cout: Int, k: Int = 1, group: Int = 1) {
            consts["w_" + name] = ts8(rng.weights(cout * (cin / group) * k * k), [cout, cin / group, k, k])
            consts["b_" + name] = ts32((0..<cout).map { _ in Int32(rng.int(-3000...3000)) }, [cout])
            nodes.append(
                Node(
                    name: name, opType: "QLinearConv", inputs: [input, "s", "z", "w_" + name, "ws", "", "s", "z", "b_" + name],
                    outputs: [name], attributes: ["group": .int(group), "pads": .ints(Array(repeating: k / 2, count: 4))],
                    fusedActivation: name == "project" ? nil : .relu))
        }
        conv("expand", "x", c, e)
        conv("dw", "expand", e, e, k: 3, group: e)
        conv("project", "dw", e, c)
        conv("shortcut", "x", c, c)
        nodes.append(
            Node(
                name: "add", opType: "QLinearAdd", domain: "com.microsoft", inputs: ["project", "s", "z", "shortcut", "s", "z", "s", "z"],
                outputs: ["sum"]))
        nodes.append(
            Node(name: "pool", opType: "MaxPool", inputs: ["dw"], outputs: ["pooled"], attributes: ["kernel_shape": .ints([2, 2])]))
        let graph = Graph(
            nodes: nodes, inputs: [ValueInfo("x", TensorType(.uint8, Shape([1, c, h, w])))],
            outputs: ["sum", "dw", "pooled"].map { ValueInfo($0, TensorType(.uint8, nil)) }, initializers: consts)
        let x = try Tensor(uint8s: rng.bytes(c * h * w), shape: [1, c, h, w])
        var reference: [String: [UInt8]]?
        for path in runnableInt8Paths() {
            for channelsLast in [false, true] {
                var options = ExecutionPlan.Options(kernels: path, threads: 1)
                options.channelsLast = channelsLast
                let plan = try ExecutionPlan(graph: graph, options: options)
                let out = try plan.makeSession().run(inputs: ["x": x]).mapValues(\.bytes)
                if reference == nil { reference = out }
                XCTAssertEqual(out, reference, "\(path) channelsLast \(channelsLast)")
                XCTAssertEqual(out["dw"]?.count, e * h * w)
                let ops = plan.steps.map(\.opType)
                let contrib = ops.filter { $0 == "com.microsoft:QLinearConv" }.count
                let transposes = ops.filter { $0 == "Transpose" }.count
                // Every path has the NHWC GEMM and depthwise kernels.
                guard channelsLast else { continue }
                // expand, dw, project, shortcut all NHWC (the add follows); transposes: x in
                // (shared by expand and shortcut), dw out (graph output and MaxPool), sum out.
                XCTAssertEqual(contrib, 4, "\(path): \(ops)")
                XCTAssertEqual(transposes, 3, "\(path): \(ops)")
            }
        }
    }

    func testQuantizedFixturesGiveTheSameBytesInEitherLayout() throws {
        for file in ["mobilenetv2_shaped.qdq.u8s8.perchannel.onnx", "digits_cnn.qdq.u8s8.perchannel.onnx"] {
            guard let e = try QFixtureTests.entries().first(where: { $0.model.hasSuffix(file) }) else {
                throw XCTSkip("no quantized fixture \(file) in manifest.json")
            }
            let model = try Fixtures.importModel(e.model)
            var inputs: [String: Tensor] = [:]
            for (name, f) in e.inputs { inputs[name] = try NPYFile.read(Fixtures.url(f)) }
            let bindings = Fixtures.bindings(model.graph, inputs)
            var reference: [String: [UInt8]]?
            for path in runnableInt8Paths() {
                for channelsLast in [false, true] {
                    var options = ExecutionPlan.Options(kernels: path, threads: 1)
                    options.channelsLast = channelsLast
                    let plan = try ExecutionPlan(model: model, bindings: bindings, options: options)
                    let out = try plan.makeSession().run(inputs: inputs).mapValues(\.bytes)
                    if reference == nil { reference = out }
                    XCTAssertEqual(out, reference, "\(file) on \(path), channelsLast \(channelsLast)")
                    let ops = plan.steps.map(\.opType)
                    if channelsLast, file.hasPrefix("mobilenet") {
                        // Every 1×1 and depthwise conv NHWC; one transpose after the stem and
                        // one before the pooling.
                        XCTAssertEqual(ops.filter { $0 == "com.microsoft:QLinearConv" }.count, 51, "\(ops)")
                        XCTAssertEqual(ops.filter { $0 == "Transpose" }.count, 2, "\(ops)")
                    }
                }
            }
        }
    }

    func testByteTransposeFormsAndResults() throws {
        // Batched 2-D forms of NCHW ↔ NHWC and plain matrices; other permutations take the copy.
        var rng = SplitMix64(seed: 5)
        let cases: [([Int], [Int])] = [
            ([2, 3, 4, 5], [0, 2, 3, 1]), ([2, 4, 5, 3], [0, 3, 1, 2]), ([7, 9], [1, 0]), ([1, 16, 6, 6], [0, 2, 3, 1]),
            ([2, 3, 4], [2, 1, 0]), ([1, 1, 5, 1], [0, 3, 1, 2]), ([3, 1, 4, 2], [3, 0, 2, 1]), ([2, 3, 4, 5], [1, 0, 3, 2]),
        ]
        for (shape, perm) in cases {
            let count = shape.reduce(1, *)
            let v = rng.bytes(count)
            let node = Node(name: "t", opType: "Transpose", inputs: ["x"], outputs: ["y"], attributes: ["perm": .ints(perm)])
            var expected = [UInt8](repeating: 0, count: count)
            let outShape = perm.map { shape[$0] }
            let inStrides = (0..<shape.count).map { shape[($0 + 1)...].reduce(1, *) }
            for o in 0..<count {
                var rest = o, src = 0
                for d in (0..<outShape.count).reversed() {
                    src += (rest % outShape[d]) * inStrides[perm[d]]
                    rest /= outShape[d]
                }
                expected[o] = v[src]
            }
            for path in runnableInt8Paths() {
                let y = try runGraph([node], inputs: [("x", tu8(v, shape))], constants: [:], outputs: ["y"], kernels: path)["y"]
                XCTAssertEqual(y?.shape, outShape)
                XCTAssertEqual(y?.bytes, expected, "\(shape) perm \(perm) on \(path)")
            }
        }
    }
}
