import ModelIR
import Runtime
import TestSupport
import XCTest

/// A graph input read only by QuantizeLinear is bound where the caller's tensor lies instead of
/// being copied into the arena: same outputs, a smaller arena, a copy for misaligned bytes, and
/// nothing kept after the run.
final class InPlaceInputTests: XCTestCase {
    func graph(alsoOutput: Bool = false, alsoRelu: Bool = false) -> Graph {
        var nodes = [
            Node(name: "q", opType: "QuantizeLinear", inputs: ["x", "s", "z"], outputs: ["xq"]),
            Node(name: "dq", opType: "DequantizeLinear", inputs: ["xq", "s", "z"], outputs: ["y"]),
        ]
        if alsoRelu { nodes.append(Node(name: "r", opType: "Relu", inputs: ["x"], outputs: ["r"])) }
        var outputs = [ValueInfo("y", TensorType(.float32, nil))]
        if alsoOutput { outputs.append(ValueInfo("x", TensorType(.float32, nil))) }
        if alsoRelu { outputs.append(ValueInfo("r", TensorType(.float32, nil))) }
        return Graph(
            nodes: nodes, inputs: [ValueInfo("x", TensorType(.float32, [3, 50]))], outputs: outputs,
            initializers: ["s": tf([0.05]), "z": tu8([128], [])])
    }

    func values(_ rng: inout SplitMix64) -> [Float] { (0..<150).map { _ in Float(rng.int(-4000...4000)) / 1000 } }

    func expected(_ v: [Float]) -> [Float] {
        v.map { x in Float(min(max((x / 0.05).rounded(.toNearestOrEven) + 128, 0), 255) - 128) * 0.05 }
    }

    func testQuantizeLinearReadsTheCallersTensor() throws {
        var rng = SplitMix64(seed: 3)
        let plan = try ExecutionPlan(graph: graph(), options: .init(threads: 1))
        XCTAssertEqual(plan.inPlaceInputs, ["x"])
        let copied = try ExecutionPlan(graph: graph(alsoRelu: true), options: .init(threads: 1))
        XCTAssertEqual(copied.inPlaceInputs, [], "Relu reads x too: copied")
        XCTAssertEqual(try ExecutionPlan(graph: graph(alsoOutput: true), options: .init(threads: 1)).inPlaceInputs, [])
        XCTAssertLessThan(plan.peakArenaBytes, copied.peakArenaBytes)
        let session = plan.makeSession()
        for _ in 0..<3 {
            let v = values(&rng)
            let y = try session.run(inputs: ["x": tf(v, [3, 50])])["y"]
            XCTAssertEqual(y?.floats, expected(v))
        }
    }

    func testMisalignedBytesAreCopiedFirst() throws {
        var rng = SplitMix64(seed: 4)
        let session = try ExecutionPlan(graph: graph(), options: .init(threads: 1)).makeSession()
        for offset in [0, 1, 2, 4] {
            let v = values(&rng)
            let raw = UnsafeMutableRawPointer.allocate(byteCount: 600 + 8, alignment: 64)
            defer { raw.deallocate() }
            v.withUnsafeBytes { (raw + offset).copyMemory(from: $0.baseAddress!, byteCount: 600) }
            let storage = TensorStorage(borrowing: UnsafeRawBufferPointer(start: raw + offset, count: 600), owner: 0)
            let x = try Tensor(elementType: .float32, shape: [3, 50], storage: storage)
            XCTAssertEqual(try session.run(inputs: ["x": x])["y"]?.floats, expected(v), "offset \(offset)")
        }
    }

    func testAnInputThatIsAlsoReadElsewhereOrReturnedStillWorks() throws {
        var rng = SplitMix64(seed: 5)
        let v = values(&rng)
        let out = try ExecutionPlan(graph: graph(alsoOutput: true, alsoRelu: true), options: .init(threads: 1)).makeSession()
            .run(inputs: ["x": tf(v, [3, 50])])
        XCTAssertEqual(out["x"]?.floats, v)
        XCTAssertEqual(out["r"]?.floats, v.map { max($0, 0) })
        XCTAssertEqual(out["y"]?.floats, expected(v))
    }

    func testQDQFixturesBindTheirFloatInput() throws {
        guard let e = try QFixtureTests.entries().first(where: { $0.model.hasSuffix("mobilenetv2_shaped.qdq.u8s8.perchannel.onnx") }) else {
            throw XCTSkip("no quantized MobileNet fixture in manifest.json")
        }
        let model = try Fixtures.importModel(e.model)
        var inputs: [String: Tensor] = [:]
        for (name, f) in e.inputs { inputs[name] = try NPYFile.read(Fixtures.url(f)) }
        let plan = try ExecutionPlan(model: model, bindings: Fixtures.bindings(model.graph, inputs), options: .init(threads: 1))
        XCTAssertEqual(plan.inPlaceInputs, Array(inputs.keys))
    }
}
