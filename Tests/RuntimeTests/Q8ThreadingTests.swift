import ModelIR
import Runtime
import TestSupport
import XCTest

/// Intra-op threads on the int8 kernels: pointwise GEMMs split pixels (NHWC) or columns (NCHW),
/// depthwise convs split output-row bands (NHWC) or channel ranges (NCHW). Every thread count
/// must give the one-thread bytes, on every int8 path, in both layouts.
final class Q8ThreadingTests: XCTestCase {
    func run(_ graph: Graph, _ inputs: [String: Tensor], bindings: [String: Int] = [:], path: KernelPath, threads: Int, channelsLast: Bool)
        throws -> [String: [UInt8]]
    {
        var options = ExecutionPlan.Options(kernels: path, threads: threads)
        options.channelsLast = channelsLast
        let plan = try ExecutionPlan(graph: graph, bindings: bindings, options: options)
        let session = plan.makeSession()
        _ = try session.run(inputs: inputs)
        return try session.run(inputs: inputs).mapValues(\.bytes)
    }

    func assertSameAtAnyThreadCount(_ graph: Graph, _ inputs: [String: Tensor], bindings: [String: Int] = [:], _ what: String) throws {
        var reference: [String: [UInt8]]?
        for path in runnableInt8Paths() {
            for channelsLast in [true, false] {
                for threads in [1, 2, 3, 5] {
                    let out = try run(graph, inputs, bindings: bindings, path: path, threads: threads, channelsLast: channelsLast)
                    if reference == nil { reference = out }
                    XCTAssertEqual(out, reference, "\(what): \(path), \(threads) threads, channelsLast \(channelsLast)")
                }
            }
        }
    }

    /// Chains x → 1×1 → depthwise → 1×1 (so the pass makes them NHWC), with geometries whose
    /// row bands start and end in padding, stride 2, dilation 2 and large channel counts.
    func testConvChainsSplitTheSameWay() throws {
        var rng = SplitMix64(seed: 91)
        let cases: [(c: Int, h: Int, w: Int, e: Int, k: Int, stride: Int, pad: Int, dilation: Int)] = [
            (8, 40, 33, 48, 3, 1, 1, 1), (16, 30, 30, 96, 3, 2, 1, 1), (4, 25, 19, 70, 5, 1, 2, 2), (24, 9, 9, 200, 3, 2, 0, 1),
        ]
        for cs in cases {
            var consts: [String: Tensor] = ["s": tf([0.03]), "z": tu8([110], []), "ws": tf([0.004])]
            var nodes: [Node] = []
            func conv(_ name: String, _ input: String, _ cin: Int, _ cout: Int, k: Int, group: Int, stride: Int, pad: Int, dilation: Int) {
                consts["w_" + name] = ts8(rng.weights(cout * (cin / group) * k * k), [cout, cin / group, k, k])
                consts["b_" + name] = ts32((0..<cout).map { _ in Int32(rng.int(-3000...3000)) }, [cout])
                nodes.append(
                    Node(
                        name: name, opType: "QLinearConv", inputs: [input, "s", "z", "w_" + name, "ws", "", "s", "z", "b_" + name],
                        outputs: [name],
                        attributes: [
                            "group": .int(group), "pads": .ints(Array(repeating: pad, count: 4)), "strides": .ints([stride, stride]),
                            "dilations": .ints([dilation, dilation]),
                        ], fusedActivation: .relu))
            }
            conv("expand", "x", cs.c, cs.e, k: 1, group: 1, stride: 1, pad: 0, dilation: 1)
            conv("dw", "expand", cs.e, cs.e, k: cs.k, group: cs.e, stride: cs.stride, pad: cs.pad, dilation: cs.dilation)
            conv("project", "dw", cs.e, cs.c, k: 1, group: 1, stride: 1, pad: 0, dilation: 1)
            let graph = Graph(
                nodes: nodes, inputs: [ValueInfo("x", TensorType(.uint8, Shape([2, cs.c, cs.h, cs.w])))],
                outputs: [ValueInfo("project", TensorType(.uint8, nil))], initializers: consts)
            let x = try Tensor(uint8s: rng.bytes(2 * cs.c * cs.h * cs.w), shape: [2, cs.c, cs.h, cs.w])
            try assertSameAtAnyThreadCount(graph, ["x": x], "\(cs)")
        }
    }

    func testQuantizedFixturesGiveTheSameBytesAtAnyThreadCount() throws {
        for file in ["mobilenetv2_shaped.qdq.u8s8.perchannel.onnx", "digits_cnn.qdq.u8s8.perchannel.onnx"] {
            guard let e = try QFixtureTests.entries().first(where: { $0.model.hasSuffix(file) }) else {
                throw XCTSkip("no quantized fixture \(file) in manifest.json")
            }
            let model = try Fixtures.importModel(e.model)
            var inputs: [String: Tensor] = [:]
            for (name, f) in e.inputs { inputs[name] = try NPYFile.read(Fixtures.url(f)) }
            try assertSameAtAnyThreadCount(model.graph, inputs, bindings: Fixtures.bindings(model.graph, inputs), file)
        }
    }
}
