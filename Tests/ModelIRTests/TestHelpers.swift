import ModelIR
import TestSupport
import XCTest

/// Deterministic floats for test data.
extension SplitMix64 {
    mutating func float(in range: ClosedRange<Float>) -> Float {
        range.lowerBound + Float(next() >> 40) / Float(1 << 24) * (range.upperBound - range.lowerBound)
    }
    mutating func floats(_ n: Int, in range: ClosedRange<Float> = -1...1) -> [Float] { (0..<n).map { _ in float(in: range) } }
}

func f32(_ name: String, _ dims: [ModelIR.Dimension]) -> ValueInfo { ValueInfo(name, TensorType(.float32, Shape(dims))) }

func node(_ name: String, _ op: String, _ inputs: [String], _ outputs: [String], _ attrs: [String: Attribute] = [:]) -> Node {
    Node(name: name, opType: op, inputs: inputs, outputs: outputs, attributes: attrs)
}

func tensor(_ values: [Float], _ shape: [Int]) -> Tensor {
    // Test data is built with matching counts; a failure here is a bug in the test itself.
    (try? Tensor(floats: values, shape: shape)) ?? Tensor.scalar(Float.nan)
}

func inferred(_ graph: Graph) throws -> Graph {
    var g = graph
    try ShapeInference().run(on: &g)
    return g
}
