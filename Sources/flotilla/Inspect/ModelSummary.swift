import Foundation
import ModelIR
import ONNXImport
import Runtime

/// Everything `flotilla inspect` reports about one model. Encoded as-is for `--json`, so the
/// field names are the machine-readable contract (snake_case, see docs/cli.md).
struct ModelSummary: Codable {
    struct Value: Codable {
        var name: String
        var elementType: String
        /// Dimensions as written: numbers, or the symbol's name ("N"); nil when the rank is unknown.
        var shape: [String]?
    }

    struct OpCount: Codable {
        var op: String
        var count: Int
    }

    struct WeightGroup: Codable {
        var elementType: String
        var tensors: Int
        var elements: Int
        var bytes: Int
    }

    struct OpMACs: Codable {
        var op: String
        var nodes: Int
        var macs: Int
    }

    struct UnsupportedNode: Codable {
        var node: String
        var op: String
        var domain: String
        var opset: Int
        var reason: String
    }

    struct RuntimePlan: Codable {
        var bindings: [String: Int]
        var kernels: String
        var steps: Int
        var peakArenaBytes: Int
        var constantBytes: Int
    }

    var path: String
    var fileBytes: Int
    var irVersion: Int?
    var producerName: String
    var producerVersion: String
    /// Opset versions by domain ("ai.onnx" for the default domain).
    var opsetImports: [String: Int]
    var inputs: [Value]
    var outputs: [Value]
    /// Nodes of the main graph as written in the file.
    var nodeCount: Int
    /// Op histogram of the file's main graph, most frequent first.
    var ops: [OpCount]
    /// Nodes after import and Flotilla's standard passes (BN folded, activations fused...).
    var nodesAfterPasses: Int?
    var parameters: Int
    var weightBytes: Int
    var weightsByType: [WeightGroup]
    /// Multiply-accumulates of Conv, ConvTranspose, Gemm, MatMul (and their integer forms).
    var macs: Int
    var macsByOp: [OpMACs]
    var macsBindings: [String: Int]
    var macsNote: String
    /// Nodes whose MACs could not be computed (shapes unknown after binding).
    var macsUnknownNodes: [String]
    var unsupportedByImporter: [UnsupportedNode]
    var unsupportedByRuntime: [UnsupportedNode]
    /// The runtime's plan with every symbol bound to 1, when it can plan the model.
    var runtimePlan: RuntimePlan?
    /// Why the runtime could not plan the model, when that is not a per-node problem.
    var runtimeError: String?

    enum CodingKeys: String, CodingKey {
        case path, fileBytes = "file_bytes", irVersion = "ir_version", producerName = "producer_name"
        case producerVersion = "producer_version", opsetImports = "opset_imports", inputs, outputs
        case nodeCount = "node_count", ops, nodesAfterPasses = "nodes_after_passes", parameters
        case weightBytes = "weight_bytes", weightsByType = "weights_by_type", macs, macsByOp = "macs_by_op"
        case macsBindings = "macs_bindings", macsNote = "macs_note", macsUnknownNodes = "macs_unknown_nodes"
        case unsupportedByImporter = "unsupported_by_importer", unsupportedByRuntime = "unsupported_by_runtime"
        case runtimePlan = "runtime_plan", runtimeError = "runtime_error"
    }
}

extension ModelSummary.Value {
    enum CodingKeys: String, CodingKey { case name, elementType = "element_type", shape }

    init(_ info: ValueInfo) {
        name = info.name
        elementType = info.type.elementType.rawValue
        shape = info.type.shape?.dims.map(\.description)
    }
}

extension ModelSummary.WeightGroup {
    enum CodingKeys: String, CodingKey { case elementType = "element_type", tensors, elements, bytes }
}

extension ModelSummary.RuntimePlan {
    enum CodingKeys: String, CodingKey {
        case bindings, kernels, steps, peakArenaBytes = "peak_arena_bytes", constantBytes = "constant_bytes"
    }
}

extension ModelSummary {
    /// Reads and describes the model at `path`. Unsupported ops never make this fail: they are
    /// listed. Only a file that is not an importable ONNX model at all throws.
    static func make(path: String, kernels: KernelPath = .automatic) throws -> ModelSummary {
        let url = try ModelLoader.existingFile(path)
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw CLIError("cannot read '\(path)': \(error.localizedDescription)")
        }
        let written = try ModelLoader.importAsWritten(url, displayPath: path)
        let scan = ONNXFileScan(data)
        let model = written.model
        let graph = model.graph

        var histogram: [String: Int] = [:]
        // The file's own node list when the scan could read it; the imported graph otherwise.
        let writtenOps =
            scan.nodes.isEmpty
            ? graph.nodes.map(\.qualifiedOpType)
            : scan.nodes.map { $0.domain.isEmpty ? $0.opType : "\($0.domain):\($0.opType)" }
        for op in writtenOps { histogram[op, default: 0] += 1 }
        let ops = histogram.map { OpCount(op: $0.key, count: $0.value) }
            .sorted { ($0.count, $1.op) > ($1.count, $0.op) }

        var groups: [ElementType: WeightGroup] = [:]
        for tensor in graph.initializers.values {
            var g = groups[tensor.elementType] ?? WeightGroup(elementType: tensor.elementType.rawValue, tensors: 0, elements: 0, bytes: 0)
            g.tensors += 1
            g.elements += tensor.elementCount
            g.bytes += tensor.byteCount
            groups[tensor.elementType] = g
        }
        let weightGroups = groups.values.sorted { $0.bytes > $1.bytes }

        let macs = MACCounter(graph: graph)
        var opsets: [String: Int] = [:]
        for (domain, version) in model.opsetImports { opsets[domain.isEmpty ? "ai.onnx" : domain] = version }

        var summary = ModelSummary(
            path: path, fileBytes: data.count, irVersion: scan.irVersion, producerName: model.producerName,
            producerVersion: model.producerVersion, opsetImports: opsets,
            inputs: ModelLoader.runtimeInputs(graph).map(Value.init), outputs: graph.outputs.map(Value.init),
            nodeCount: writtenOps.count, ops: ops, nodesAfterPasses: nil,
            parameters: weightGroups.reduce(0) { $0 + $1.elements }, weightBytes: weightGroups.reduce(0) { $0 + $1.bytes },
            weightsByType: weightGroups, macs: macs.total, macsByOp: macs.byOp, macsBindings: macs.bindings,
            macsNote: macs.note, macsUnknownNodes: macs.unknownNodes,
            unsupportedByImporter: written.unsupported.map {
                UnsupportedNode(
                    node: $0.node, op: $0.opType, domain: $0.domain.isEmpty ? "ai.onnx" : $0.domain, opset: $0.opset, reason: $0.reason)
            },
            unsupportedByRuntime: [], runtimePlan: nil, runtimeError: nil)
        summary.checkRuntime(path: path, bindings: macs.bindings, kernels: kernels)
        return summary
    }

    /// Imports with the passes and plans with every symbol bound to 1; records each node the
    /// runtime cannot run (the planner lists them all, not only the first).
    private mutating func checkRuntime(path: String, bindings: [String: Int], kernels: KernelPath) {
        let model: Model
        do {
            model = try ModelLoader.importForExecution(path).model
        } catch {
            runtimeError = "the import with Flotilla's passes failed: \(error)"
            return
        }
        nodesAfterPasses = model.graph.nodes.count
        let nodes = Dictionary(model.graph.nodes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        do {
            let plan = try ExecutionPlan(model: model, bindings: bindings, options: .init(kernels: kernels))
            runtimePlan = RuntimePlan(
                bindings: bindings, kernels: plan.kernelPathName, steps: plan.stepCount,
                peakArenaBytes: plan.peakArenaBytes, constantBytes: plan.constantBytes)
        } catch RuntimeError.planFailed(let problems) {
            unsupportedByRuntime = problems.map { p in
                let domain = nodes[p.node]?.domain ?? ""
                let op = nodes[p.node]?.opType ?? p.opType
                return UnsupportedNode(
                    node: p.node, op: op, domain: domain.isEmpty ? "ai.onnx" : domain,
                    opset: model.opsetImports[domain] ?? (domain.isEmpty ? 0 : 1), reason: p.detail)
            }
        } catch {
            runtimeError = "\(error)"
        }
    }
}
