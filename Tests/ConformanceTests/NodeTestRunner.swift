import Foundation
import ModelIR
import ONNXImport
import ONNXProto
import Runtime

/// Runs one ONNX node test through the deployment path (ONNXImporter with its standard passes,
/// ExecutionPlan bound to the data set's shapes, Session) and classifies the result.
///
/// The order of the checks decides which reason a test is counted under when several apply:
/// non-tensor values, then ops the runtime lacks, then element types the runtime cannot hold,
/// then training mode; only then is an import, plan, run or numeric problem a failure.
struct NodeTestRunner {
    /// `DIR/node`.
    let root: URL
    /// `RuntimeOps.supported`: "Conv", "ai.onnx.ml:ArrayFeatureExtractor".
    let runtimeOps: Set<String>

    func run(_ c: NodeTestIndex.Case) -> NodeTestOutcome {
        let nonTensor = (c.inputs + c.outputs).filter { !$0.isTensor }.map(\.type)
        if !nonTensor.isEmpty { return .skip(.nonTensorValues(unique(nonTensor))) }
        if let op = c.ops.first(where: { $0.hasPrefix("ai.onnx.preview.training:") }) {
            return .skip(.trainingMode("\(op) (the runtime does inference only)"))
        }
        let caseDir = root.appendingPathComponent(c.name)
        let modelURL = caseDir.appendingPathComponent("model.onnx")
        var options = ONNXImporter.Options()
        options.allowUnsupported = true
        let imported = Result { try ONNXImporter.importModelWithReport(from: modelURL, options: options) }

        // Ops as the runtime would see them: after import, so an op the importer rewrites into
        // supported ops (Upsample → Resize) is not counted as missing.
        let present: [String]
        if case .success(let r) = imported { present = Self.opTypes(r.model.graph) } else { present = c.ops }
        let missing = unique(present.filter { !runtimeOps.contains($0) })
        if !missing.isEmpty { return .skip(.unsupportedOps(missing)) }
        if let v = (c.inputs + c.outputs).first(where: { ONNXType.unrepresentable($0.type) }) {
            return .skip(.elementType(v.type, op: c.op))
        }

        let dataSets: [NodeTestDataSet]
        let proto: Onnx_ModelProto
        do {
            dataSets = try (0..<c.dataSets).map { try NodeTestDataSet(caseDir: caseDir, index: $0, case: c) }
            proto = try Onnx_ModelProto(serializedBytes: Data(contentsOf: modelURL))
        } catch {
            return .fail(NodeTestFailure(stage: .load, detail: "\(error)"))
        }
        if let what = Self.trainingUse(proto.graph, data: dataSets.first) { return .skip(.trainingMode(what)) }

        let result: ONNXImporter.Result
        switch imported {
        case .success(let r): result = r
        case .failure(let error): return Self.classifyImportError(error)
        }
        if !result.unsupported.isEmpty {
            return .fail(
                NodeTestFailure(
                    stage: .importer,
                    detail: "the runtime implements \(unique(result.unsupported.map(\.opType)).joined(separator: ", ")) but the importer "
                        + "has no entry for it: " + result.unsupported.map(\.description).joined(separator: "; ")))
        }
        var notes: [String] = []
        for ds in dataSets {
            switch runDataSet(result.model, ds, c) {
            case .success(let note):
                if let note, !notes.contains(note) { notes.append(note) }
            case .failure(let outcome):
                return outcome.value
            }
        }
        return .pass(note: notes.isEmpty ? nil : notes.joined(separator: "; "))
    }

    /// Plans and runs one data set; success carries a note on how it was run.
    private func runDataSet(_ model: Model, _ ds: NodeTestDataSet, _ c: NodeTestIndex.Case) -> Result<String?, OutcomeBox> {
        var inputs: [String: Tensor] = [:]
        for (name, stored) in ds.inputs {
            do {
                guard let t = try stored.modelIRTensor() else {
                    return .failure(OutcomeBox(.skip(.elementType(stored.dataType.name, op: c.op))))
                }
                inputs[name] = t
            } catch {
                return .failure(OutcomeBox(.fail(NodeTestFailure(stage: .load, detail: "input '\(name)': \(error)"))))
            }
        }
        let planned: PlannedCase
        switch PlannedCase.make(model.graph, inputs: inputs) {
        case .success(let p): planned = p
        case .failure(let outcome): return .failure(outcome)
        }
        let outputs: [String: Tensor]
        do {
            let feeds = Dictionary(uniqueKeysWithValues: planned.plan.inputs.compactMap { i in inputs[i.name].map { (i.name, $0) } })
            outputs = try planned.plan.makeSession().run(inputs: feeds)
        } catch {
            return .failure(OutcomeBox(.fail(NodeTestFailure(stage: .run, detail: "\(error)"))))
        }
        var problems: [String] = []
        for (name, expected) in ds.outputs {
            guard let actual = outputs[name] else {
                problems.append("output '\(name)' was not produced (outputs: \(outputs.keys.sorted().joined(separator: ", ")))")
                continue
            }
            if let m = OutputComparison.mismatch(name: name, actual: StoredTensor(actual), expected: expected, rtol: c.rtol, atol: c.atol) {
                problems.append(m)
            }
        }
        if !problems.isEmpty {
            return .failure(OutcomeBox(.fail(NodeTestFailure(stage: .compare, detail: problems.joined(separator: "; ")))))
        }
        let note = planned.boundInputs.isEmpty ? nil : "inputs bound at plan time: \(planned.boundInputs.joined(separator: ", "))"
        return .success(note)
    }

    static func classifyImportError(_ error: any Error) -> NodeTestOutcome {
        switch error as? ONNXImportError {
        case .unsupportedOpset(let domain, let version, let supported)? where version > 0:
            let d = domain.isEmpty ? "ai.onnx" : domain
            return .skip(.unsupportedFeature("\(d) opset \(version) (the importer reads \(supported.lowerBound)…\(supported.upperBound))"))
        case .unsupportedDataType(_, let code)?:
            return .skip(.elementType(ONNXType(code: code).name, op: nil))
        default:
            return .fail(NodeTestFailure(stage: .importer, detail: "\(error)"))
        }
    }

    /// Every op of `graph` and its subgraphs, as `RuntimeOps.supported` spells them.
    static func opTypes(_ graph: Graph) -> [String] {
        graph.nodes.flatMap { n in [n.qualifiedOpType] + n.subgraphs.flatMap(opTypes) }
    }

    /// A node that asks for training behaviour: BatchNormalization with training_mode = 1, or
    /// Dropout whose training_mode input is not known to be false.
    static func trainingUse(_ g: Onnx_GraphProto, data: NodeTestDataSet?) -> String? {
        for n in g.node where n.domain.isEmpty || n.domain == "ai.onnx" {
            if n.opType == "BatchNormalization", n.attribute.contains(where: { $0.name == "training_mode" && $0.i != 0 }) {
                return "BatchNormalization training_mode = 1 (the runtime does inference only)"
            }
            if n.opType == "Dropout", n.input.count > 2, !n.input[2].isEmpty {
                let value = data?.inputs.first(where: { $0.name == n.input[2] })?.tensor.doubles?.first
                if value != 0 { return "Dropout training_mode = true (random masks; the runtime does inference only)" }
            }
        }
        for n in g.node {
            for a in n.attribute {
                if a.hasG, let what = trainingUse(a.g, data: nil) { return what }
                for sub in a.graphs { if let what = trainingUse(sub, data: nil) { return what } }
            }
        }
        return nil
    }
}

/// An outcome carried as an error, so the data-set loop can use `Result`.
struct OutcomeBox: Error {
    let value: NodeTestOutcome
    init(_ value: NodeTestOutcome) { self.value = value }
}

func unique(_ values: [String]) -> [String] {
    var seen: Set<String> = []
    return values.filter { seen.insert($0).inserted }
}
