import ModelIR
import Runtime
import TestSupport
import XCTest

/// Intra-op threads: results are bit-identical to one thread at every thread count, on every
/// kernel path, for the fixture models and for convolutions shaped to split both ways.
final class ThreadingTests: XCTestCase {
    func outputs(_ graph: Graph, _ inputs: [String: Tensor], threads: Int, kernels: KernelPath = .automatic, bindings: [String: Int] = [:])
        throws -> [String: Tensor]
    {
        let plan = try ExecutionPlan(graph: graph, bindings: bindings, options: .init(kernels: kernels, threads: threads))
        XCTAssertEqual(plan.threads, threads)
        let session = plan.makeSession()
        _ = try session.run(inputs: inputs)
        return try session.run(inputs: inputs)
    }

    func assertBitIdentical(_ graph: Graph, _ inputs: [String: Tensor], bindings: [String: Int] = [:], _ what: String) throws {
        for kernels in [KernelPath.automatic, .reference] {
            let one = try outputs(graph, inputs, threads: 1, kernels: kernels, bindings: bindings)
            for threads in [2, 3, 4, 7] {
                let many = try outputs(graph, inputs, threads: threads, kernels: kernels, bindings: bindings)
                XCTAssertEqual(Set(many.keys), Set(one.keys))
                for (name, t) in one {
                    XCTAssertEqual(many[name]?.shape, t.shape, "\(what) \(name)")
                    // Byte equality: the same bits, not merely close values.
                    XCTAssertTrue(
                        many[name]?.withUnsafeBytes { a in t.withUnsafeBytes { b in a.elementsEqual(b) } } ?? false,
                        "\(what): output \(name) differs at \(threads) threads on \(kernels)")
                }
            }
        }
    }

    /// A conv with many output pixels (column split), one with few pixels and many channels
    /// (row split), a grouped conv and a depthwise conv, each with a fused Relu.
    func testConvolutionsSplitEitherWayGiveTheSameBits() throws {
        var rng = SplitMix64(seed: 11)
        let cases: [(String, [Int], [Int], Int, [Int])] = [
            ("wide", [1, 8, 40, 40], [24, 8, 3, 3], 1, [1, 1, 1, 1]),
            ("deep", [1, 64, 3, 3], [200, 64, 1, 1], 1, [0, 0, 0, 0]),
            ("grouped", [2, 12, 20, 20], [24, 3, 3, 3], 4, [1, 0, 1, 0]),
            ("depthwise", [2, 70, 30, 30], [70, 1, 3, 3], 70, [1, 1, 1, 1]),
            ("depthwise small", [1, 150, 6, 6], [150, 1, 3, 3], 150, [1, 1, 1, 1]),
        ]
        for (name, xShape, wShape, group, pads) in cases {
            let w = t(rng.floats(wShape.reduce(1, *)), wShape), b = t(rng.floats(wShape[0]), [wShape[0]])
            let node = Node(
                name: "c", opType: "Conv", inputs: ["x", "w", "b"], outputs: ["y"],
                attributes: ["group": .int(group), "pads": .ints(pads)],
                fusedActivation: .relu)
            let graph = Graph(
                nodes: [node], inputs: [ValueInfo("x", TensorType(.float32, xShape))], outputs: [ValueInfo("y", TensorType(.float32, nil))],
                initializers: ["w": w, "b": b])
            try assertBitIdentical(graph, ["x": t(rng.floats(xShape.reduce(1, *)), xShape)], name)
        }
    }

    func testFixtureModelsGiveTheSameBitsAtAnyThreadCount() throws {
        for entry in try Fixtures.manifest() where ["mobilenetv2_shaped", "digits_cnn"].contains(entry.name) {
            let model = try Fixtures.importModel(entry.model)
            var inputs: [String: Tensor] = [:]
            for (name, file) in entry.inputs { inputs[name] = try NPYFile.read(Fixtures.url(file)) }
            try assertBitIdentical(model.graph, inputs, bindings: Fixtures.bindings(model.graph, inputs), entry.name)
        }
    }

    func testSessionsWithThreadsComeAndGo() throws {
        // Pools are created with their session and joined when it goes away.
        let node = Node(name: "r", opType: "Relu", inputs: ["x"], outputs: ["y"])
        let graph = Graph(
            nodes: [node], inputs: [ValueInfo("x", TensorType(.float32, [4]))], outputs: [ValueInfo("y", TensorType(.float32, nil))])
        let plan = try ExecutionPlan(graph: graph, options: .init(threads: 3))
        for _ in 0..<50 {
            let y = try plan.makeSession().run(inputs: ["x": t([-1, 2, -3, 4], [4])])["y"]
            XCTAssertEqual(y?.floats, [0, 2, 0, 4])
        }
    }
}
