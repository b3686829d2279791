import Foundation
import ModelIR
import ONNXImport
import Runtime
import XCTest

/// Every fixture model from Tests/Fixtures/manifest.json, run on its listed inputs and compared
/// with ONNX Runtime's outputs within the manifest's tolerance, on the optimized and the
/// reference kernel paths; the digits models' test accuracy must equal the manifest's.
final class FixtureModelTests: XCTestCase {
    func testAllFixturesMatchReferenceOutputsOnOptimizedPath() throws { try runAll(.automatic) }
    func testAllFixturesMatchReferenceOutputsOnReferencePath() throws { try runAll(.reference) }

    private func runAll(_ path: KernelPath) throws {
        let entries = try Fixtures.manifest()
        XCTAssertGreaterThanOrEqual(entries.count, 3)
        var checked = 0, importerLimits = 0
        for e in entries {
            do {
                try check(e, path)
                checked += 1
            } catch let error as ONNXImportError {
                // Opset-2 fixtures are below the importer's supported range (7...28): that is
                // the importer's scope, not the runtime's. Anything else is a failure.
                guard case .unsupportedOpset = error else {
                    XCTFail("\(e.name): \(error)")
                    continue
                }
                importerLimits += 1
            } catch {
                XCTFail("\(e.name): \(error)")
            }
        }
        XCTAssertEqual(checked + importerLimits, entries.count)
        XCTAssertLessThanOrEqual(importerLimits, 2, "only the two opset-2 Pad fixtures may be out of the importer's range")
    }

    private func check(_ e: Fixtures.Entry, _ path: KernelPath) throws {
        let model = try Fixtures.importModel(e.model)
        var inputs: [String: Tensor] = [:]
        for (name, file) in e.inputs { inputs[name] = try NPYFile.read(Fixtures.url(file)) }
        let plan = try ExecutionPlan(
            model: model, bindings: Fixtures.bindings(model.graph, inputs),
            options: .init(kernels: path))
        let outputs = try plan.makeSession().run(inputs: inputs)
        for (name, file) in e.outputs {
            let reference = try NPYFile.read(Fixtures.url(file))
            guard let actual = outputs[name] else {
                XCTFail("\(e.name): no output '\(name)'")
                continue
            }
            XCTAssertEqual(actual.shape, reference.shape, "\(e.name).\(name) shape")
            if let r = reference.floats {
                guard let a = actual.floats else {
                    XCTFail("\(e.name).\(name): output is \(actual.elementType), reference float32")
                    continue
                }
                let c = closeness(a, r, atol: e.atol, rtol: e.rtol)
                XCTAssertTrue(
                    c.ok,
                    "\(e.name).\(name) [\(plan.kernelPathName)]: max |diff| \(c.maxAbs) at \(c.at) exceeds atol \(e.atol) rtol \(e.rtol)")
            } else {
                XCTAssertEqual(actual.asInt64s, reference.asInt64s, "\(e.name).\(name) must match exactly")
            }
        }
        if let accuracy = e.accuracy, let labelsFile = e.labels {
            let labels = try XCTUnwrap(NPYFile.read(Fixtures.url(labelsFile)).asInt64s)
            let predicted: [Int64]
            if let label = outputs["label"]?.asInt64s {
                predicted = label
            } else {
                let logits = try XCTUnwrap(outputs.values.first { $0.elementType == .float32 && $0.rank == 2 })
                let classes = logits.shape[1]
                let f = try XCTUnwrap(logits.floats)
                predicted = (0..<logits.shape[0]).map { i in
                    Int64((0..<classes).max { f[i * classes + $0] < f[i * classes + $1] } ?? 0)
                }
            }
            let correct = zip(predicted, labels).filter { $0 == $1 }.count
            XCTAssertEqual(Double(correct) / Double(labels.count), accuracy, accuracy: 1e-9, "\(e.name) test accuracy")
        }
    }
}
