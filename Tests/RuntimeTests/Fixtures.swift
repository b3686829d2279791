import Foundation
import ModelIR
import ONNXImport
import Runtime
import XCTest

/// The fixture folder and its manifest (docs/fixtures.md).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    struct Entry {
        var name: String
        var model: String
        var inputs: [String: String]
        var outputs: [String: String]
        var atol: Double
        var rtol: Double
        var accuracy: Double?
        var labels: String?
    }

    static func manifest() throws -> [Entry] {
        let data = try Data(contentsOf: directory.appendingPathComponent("manifest.json"))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let models = root["models"] as? [[String: Any]]
        else { throw XCTSkip("manifest.json has no models") }
        return models.compactMap { m in
            guard let name = m["name"] as? String, let model = m["model"] as? String,
                let inputs = m["inputs"] as? [String: String], let outputs = m["outputs"] as? [String: String],
                let tol = m["tolerance"] as? [String: Any]
            else { return nil }
            let acc = m["accuracy"] as? [String: Any]
            return Entry(
                name: name, model: model, inputs: inputs, outputs: outputs,
                atol: (tol["atol"] as? NSNumber)?.doubleValue ?? 0, rtol: (tol["rtol"] as? NSNumber)?.doubleValue ?? 0,
                accuracy: (acc?["test"] as? NSNumber)?.doubleValue, labels: acc?["labels"] as? String)
        }
    }

    static func url(_ relative: String) -> URL { directory.appendingPathComponent(relative) }

    /// Imports a fixture with the standard passes, folding through the runtime's evaluator;
    /// ai.onnx.ml ops the importer does not know stay as nodes the runtime may run.
    static func importModel(_ relative: String) throws -> Model {
        var options = ONNXImporter.Options()
        options.allowUnsupported = true
        options.evaluator = RuntimeConstantEvaluator()
        return try ONNXImporter.importModel(from: url(relative), options: options)
    }

    /// Bindings for the graph inputs' symbols from the shapes of the given tensors.
    static func bindings(_ graph: Graph, _ inputs: [String: Tensor]) -> [String: Int] {
        var b: [String: Int] = [:]
        for i in graph.inputs {
            guard let t = inputs[i.name], let dims = i.type.shape?.dims, dims.count == t.rank else { continue }
            for (d, v) in zip(dims, t.shape) { if let s = d.symbol { b[s] = v } }
        }
        return b
    }
}

/// |a − r| ≤ atol + rtol·|r| elementwise; returns the worst excess description or nil.
func closeness(_ actual: [Float], _ reference: [Float], atol: Double, rtol: Double) -> (ok: Bool, maxAbs: Double, at: Int) {
    var worst = 0.0, at = -1, ok = actual.count == reference.count
    for (i, (a, r)) in zip(actual, reference).enumerated() {
        let d = abs(Double(a) - Double(r))
        if d > worst || d.isNaN {
            worst = d
            at = i
        }
        if !(d <= atol + rtol * abs(Double(r))) { ok = false }
    }
    return (ok, worst, at)
}
