import Foundation
import ModelIR
import Runtime
import XCTest

/// Structured mutations of the fixture models (attribute values, constant inputs, input
/// shapes) must plan and run or fail with an error — never trap. A crash here ends the test
/// process, which is the failure.
final class RobustnessTests: XCTestCase {
    static let extremes: [Int] = [-1 << 40, -65537, -3, -2, -1, 0, 1, 2, 3, 5, 7, 64, 1 << 20, 1 << 40, .max, .min]

    func testMutatedAttributesNeverTrap() throws {
        // Fixed seed; ROBUST_SEED=n explores others (seeds 1–16 were run when this was written).
        var rng = SeededRandom(UInt64(ProcessInfo.processInfo.environment["ROBUST_SEED"] ?? "2024") ?? 2024)
        var planned = 0, rejected = 0
        for file in ["digits_cnn.onnx", "mobilenetv2_shaped.onnx", "digits_mlp.onnx", "opsets/resize_linear.opset13.onnx",
                     "opsets/pad_reflect.opset11.onnx", "opsets/split.opset18.onnx", "opsets/reduce_mean.opset18.onnx",
                     "opsets/softmax.opset11.onnx", "opsets/squeeze_unsqueeze.opset13.onnx"] {
            let model = try Fixtures.importModel(file)
            for _ in 0..<60 {
                var g = model.graph
                let k = Int(rng.next() % UInt64(g.nodes.count))
                mutate(&g, node: k, &rng)
                do {
                    let plan = try ExecutionPlan(graph: g, bindings: ["N": 2])
                    planned += 1
                    var inputs: [String: Tensor] = [:]
                    for i in plan.inputs where i.type.elementType == .float32 {
                        inputs[i.name] = t(rng.floats(i.type.elementCount), i.type.shape)
                    }
                    _ = try? plan.makeSession().run(inputs: inputs)
                } catch {
                    rejected += 1
                    XCTAssertFalse("\(error)".isEmpty)
                }
            }
        }
        XCTAssertGreaterThan(planned, 0)
        XCTAssertGreaterThan(rejected, 0)
    }

    private func mutate(_ g: inout Graph, node k: Int, _ rng: inout SeededRandom) {
        var n = g.nodes[k]
        let pick = { (r: inout SeededRandom) -> Int in Self.extremes[Int(r.next() % UInt64(Self.extremes.count))] }
        switch rng.next() % 4 {
        case 0:
            // An existing int or ints attribute gets an extreme value.
            let keys = n.attributes.keys.sorted().filter {
                if case .int = n.attributes[$0] { return true }
                if case .ints = n.attributes[$0] { return true }
                return false
            }
            let names = keys.isEmpty ? ["axis", "group", "strides", "pads", "kernel_shape", "dilations", "keepdims"] : keys
            let key = names[Int(rng.next() % UInt64(names.count))]
            if case .ints(let v)? = n.attributes[key] {
                n.attributes[key] = .ints(v.map { _ in pick(&rng) })
            } else if ["strides", "pads", "kernel_shape", "dilations"].contains(key) {
                n.attributes[key] = .ints([pick(&rng), pick(&rng)])
            } else {
                n.attributes[key] = .int(pick(&rng))
            }
        case 1:
            // A constant integer input (shape, axes, pads, sizes) gets extreme values.
            for name in n.inputs where !name.isEmpty {
                guard let c = g.initializers[name], c.elementType == .int64 else { continue }
                g.initializers[name] = ti((0..<c.elementCount).map { _ in Int64(clamping: pick(&rng)) }, c.shape)
                break
            }
        case 2:
            // A constant float input is replaced by one of another shape.
            for name in n.inputs where !name.isEmpty {
                guard let c = g.initializers[name], c.elementType == .float32 else { continue }
                let dims = [Int(rng.next() % 4), Int(rng.next() % 5) + 1]
                g.initializers[name] = t([Float](repeating: 0.5, count: dims[0] * dims[1]), dims)
                break
            }
        default:
            // The node reads its first input twice (rank and type mismatches).
            if n.inputs.count > 1, let first = n.inputs.first { n.inputs[1] = first }
        }
        g.nodes[k] = n
    }
}
