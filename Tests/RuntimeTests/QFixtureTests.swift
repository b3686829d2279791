import Foundation
import ModelIR
import Runtime
import XCTest

/// The ORT-quantized fixtures (Tests/Fixtures/quantized, manifest "quantized"): each runs on the
/// int8 runtime and agrees with ONNX Runtime within one quantization step on ≥ 99.9 % of the
/// output values; digits top-1 accuracy is within 0.25 points of ORT's. The primary reference is
/// `ort_noopt` (the QDQ graph evaluated as written, float ops between Q and DQ: the model's own
/// meaning, independent of which fused kernels an ORT build picks); `ort_opt` (ORT's fused
/// integer kernels) is measured too and reported.
final class QFixtureTests: XCTestCase {
    struct Entry {
        var name, model: String
        var inputs: [String: String]
        var references: [String: [String: String]]
        var steps: [String: Double]
        var minFraction: Double
        var atol: Double?, rtol: Double?
        var exact: [String]
        var labels: String?
        var ortAccuracy: Double?
    }

    static func entries() throws -> [Entry] {
        let data = try Data(contentsOf: Fixtures.url("manifest.json"))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any], let q = root["quantized"] as? [String: Any],
              let models = q["models"] as? [[String: Any]]
        else { throw XCTSkip("manifest.json has no quantized models (merge wip/qfixtures)") }
        return models.compactMap { m in
            guard let name = m["name"] as? String, let model = m["model"] as? String, let inputs = m["inputs"] as? [String: String],
                  let refs = m["references"] as? [String: [String: String]], let tol = m["tolerance"] as? [String: Any]
            else { return nil }
            let steps = ((tol["step"] as? [String: Any]) ?? [:]).compactMapValues { ($0 as? NSNumber)?.doubleValue }
            let acc = m["accuracy"] as? [String: Any]
            return Entry(name: name, model: model, inputs: inputs, references: refs, steps: steps,
                         minFraction: (tol["min_fraction"] as? NSNumber)?.doubleValue ?? 0.999,
                         atol: (tol["atol"] as? NSNumber)?.doubleValue, rtol: (tol["rtol"] as? NSNumber)?.doubleValue,
                         exact: tol["exact_outputs"] as? [String] ?? [], labels: acc?["labels"] as? String,
                         ortAccuracy: (acc?["test_ort_noopt"] as? NSNumber)?.doubleValue)
        }
    }

    func testEveryQuantizedFixtureAgreesWithONNXRuntime() throws {
        let entries = try Self.entries()
        XCTAssertGreaterThanOrEqual(entries.count, 7)
        var lines: [String] = []
        for e in entries {
            do { lines.append(try check(e)) } catch { XCTFail("\(e.name): \(error)") }
        }
        print("QFixture agreement:\n  " + lines.joined(separator: "\n  "))
    }

    func check(_ e: Entry) throws -> String {
        let model = try Fixtures.importModel(e.model)
        var inputs: [String: Tensor] = [:]
        for (name, file) in e.inputs { inputs[name] = try NPYFile.read(Fixtures.url(file)) }
        // Static models must run int8 end to end: no fp32 Conv/Gemm/MatMul island after fusion.
        var fused = model.graph
        QDQFusion().fuse(&fused)
        let fp32Compute = fused.nodes.filter { $0.domain.isEmpty && ["Conv", "Gemm", "MatMul", "Add"].contains($0.opType) }.map(\.name)
        if !e.steps.isEmpty { XCTAssertEqual(fp32Compute, [], "\(e.name): left in fp32") }
        let plan = try ExecutionPlan(model: model, bindings: Fixtures.bindings(model.graph, inputs))
        let outputs = try plan.makeSession().run(inputs: inputs)
        var summary = "\(e.name) [\(plan.int8KernelPathName)]:"
        for refName in ["ort_noopt", "ort_opt"] {
            guard let files = e.references[refName] else { continue }
            for (output, file) in files.sorted(by: { $0.key < $1.key }) {
                let reference = try NPYFile.read(Fixtures.url(file))
                let actual = try XCTUnwrap(outputs[output], "\(e.name): no output \(output)")
                if let step = e.steps[output] {
                    let a = actual.floats ?? [], r = reference.floats ?? []
                    XCTAssertEqual(a.count, r.count, "\(e.name).\(output)")
                    var within = 0, differing = 0
                    for (x, y) in zip(a, r) {
                        let steps = (abs(Double(x) - Double(y)) / step).rounded()
                        if steps <= 1 { within += 1 }
                        if steps >= 1 { differing += 1 }
                    }
                    let fraction = Double(within) / Double(max(1, r.count))
                    summary += " \(output) vs \(refName): \(within)/\(r.count) within one step (\(differing) differ);"
                    if refName == "ort_noopt" {
                        XCTAssertGreaterThanOrEqual(fraction, e.minFraction, "\(e.name).\(output) vs \(refName)")
                    }
                } else if e.exact.contains(output) {
                    let same = zip(actual.asInt64s ?? [], reference.asInt64s ?? []).filter { $0 == $1 }.count
                    summary += " \(output) vs \(refName): \(same)/\(reference.elementCount) equal;"
                    if refName == "ort_noopt" { XCTAssertEqual(actual.asInt64s, reference.asInt64s, "\(e.name).\(output)") }
                } else {
                    let c = closeness(actual.floats ?? [], reference.floats ?? [], atol: e.atol ?? 0, rtol: e.rtol ?? 0)
                    summary += " \(output) vs \(refName): max |Δ| \(c.maxAbs);"
                    if refName == "ort_noopt" { XCTAssertTrue(c.ok, "\(e.name).\(output): max |Δ| \(c.maxAbs)") }
                }
            }
        }
        if let labels = e.labels, let ortAcc = e.ortAccuracy {
            let y = try NPYFile.read(Fixtures.url(labels)).asInt64s ?? []
            let predicted: [Int64]
            if let l = outputs["label"]?.asInt64s {
                predicted = l
            } else {
                let f = outputs.values.first { $0.elementType == .float32 }?.floats ?? []
                let classes = f.count / max(1, y.count)
                predicted = (0..<y.count).map { i in
                    let row = f[(i * classes)..<((i + 1) * classes)]
                    return Int64((row.indices.max { row[$0] < row[$1] } ?? 0) - i * classes)
                }
            }
            let acc = Double(zip(predicted, y).filter { $0 == $1 }.count) / Double(max(1, y.count))
            summary += " top-1 \(acc * 100)% (ORT \(ortAcc * 100)%)"
            XCTAssertLessThanOrEqual(abs(acc - ortAcc), 0.0025 + 1e-9, "\(e.name): accuracy \(acc) vs ORT \(ortAcc)")
        }
        return summary
    }
}
