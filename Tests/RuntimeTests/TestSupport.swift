import Foundation
import ModelIR
import Runtime
import TestSupport
import XCTest

/// Deterministic floats for tests.
extension SplitMix64 {
    /// Uniform in [-1, 1).
    mutating func float() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
    mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in float() } }
}

func t(_ v: [Float], _ shape: [Int]) -> Tensor { (try? Tensor(floats: v, shape: shape)) ?? .scalar(Float(0)) }
func ti(_ v: [Int64], _ shape: [Int]) -> Tensor { (try? Tensor(int64s: v, shape: shape)) ?? .scalar(Int64(0)) }

/// Runs one node. `inputs` are graph inputs (name, value); `constants` become initializers.
func runNode(
    _ op: String, domain: String = "", inputs: [(String, Tensor)], constants: [String: Tensor] = [:],
    nodeInputs: [String]? = nil, attributes: [String: Attribute] = [:], outputs: [String] = ["y"],
    activation: Activation? = nil, kernels: KernelPath = .automatic
) throws -> [String: Tensor] {
    let node = Node(
        name: "n", opType: op, domain: domain, inputs: nodeInputs ?? inputs.map(\.0), outputs: outputs,
        attributes: attributes, fusedActivation: activation)
    let graph = Graph(
        nodes: [node], inputs: inputs.map { ValueInfo($0.0, $0.1.tensorType) },
        outputs: outputs.filter { !$0.isEmpty }.map { ValueInfo($0, TensorType(.float32, nil)) }, initializers: constants)
    let plan = try ExecutionPlan(graph: graph, options: .init(kernels: kernels))
    return try plan.makeSession().run(inputs: Dictionary(uniqueKeysWithValues: inputs))
}

func assertClose(
    _ a: Tensor?, _ expected: [Float], shape: [Int]? = nil, tol: Float = 1e-5, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) {
    guard let a, let f = a.floats else {
        XCTFail("no float32 output \(message)", file: file, line: line)
        return
    }
    if let shape { XCTAssertEqual(a.shape, shape, "shape \(message)", file: file, line: line) }
    XCTAssertEqual(f.count, expected.count, "count \(message)", file: file, line: line)
    for (i, (x, y)) in zip(f, expected).enumerated() where !(abs(x - y) <= tol * max(1, abs(y))) && !(x.isNaN && y.isNaN) {
        XCTFail("element \(i): \(x) vs expected \(y) \(message)", file: file, line: line)
        return
    }
}

extension Attribute {
    static func i(_ v: Int) -> Attribute { .int(v) }
    static func f(_ v: Float) -> Attribute { .float(v) }
    static func s(_ v: String) -> Attribute { .string(v) }
    static func `is`(_ v: [Int]) -> Attribute { .ints(v) }
}
