public import ModelIR
import Runtime

/// Runs a float model over calibration batches and hands over intermediate values. The
/// runtime has no hook for intermediates, so the values become extra graph outputs of a copy
/// of the graph before planning (no runtime change; the memory planner then keeps them alive
/// to the end, which costs arena space only during calibration). One plan and one session per
/// batch shape, kept for the whole pass: a fresh session per batch allocated and freed its arena
/// (and started its intra-op threads) every batch, and glibc's heap did not always give that
/// back — peak RSS over 11 970 digits samples was 48 MB in some runs and 112–132 MB in others.
public struct ActivationCapture {
    public let graph: Graph
    public let captured: [String]
    private var sessions: [[Int]: Session] = [:]

    /// `values`: names of float intermediates, graph inputs or outputs to capture.
    public init(graph: Graph, values: [String]) throws {
        var g = graph
        let known = Set(graph.outputs.map(\.name))
        let index = ValueIndex(graph)
        for v in values where !known.contains(v) {
            guard index.producer[v] != nil || graph.isGraphInput(v) else {
                throw QuantizerError.graph(node: v, detail: "no node produces this value; capture node outputs or graph inputs")
            }
            if graph.isGraphInput(v) { continue }
            g.outputs.append(ValueInfo(v, graph.type(of: v) ?? TensorType(.float32, nil)))
        }
        self.graph = g
        captured = values
    }

    /// The values of every captured name for one batch (graph inputs are passed through).
    public mutating func run(_ batch: [String: Tensor]) throws -> [String: Tensor] {
        let key = graph.inputs.compactMap { batch[$0.name]?.shape }.flatMap { $0 + [-1] }
        let session: Session
        if let s = sessions[key] {
            session = s
        } else {
            var bindings: [String: Int] = [:]
            for i in graph.inputs {
                guard let t = batch[i.name], let dims = i.type.shape?.dims, dims.count == t.rank else { continue }
                for (d, v) in zip(dims, t.shape) { if let s = d.symbol { bindings[s] = v } }
            }
            do {
                session = try ExecutionPlan(graph: graph, bindings: bindings).makeSession()
            } catch {
                throw QuantizerError.graph(node: graph.name, detail: "cannot plan the calibration copy of the model: \(error)")
            }
            sessions[key] = session
        }
        let outputs: [String: Tensor]
        do {
            // `run(inputs:)` returns copies, so the next batch may reuse the arena.
            outputs = try session.run(inputs: batch)
        } catch {
            throw QuantizerError.calibrationData(path: "<batch>", detail: "the model rejected a calibration batch: \(error)")
        }
        var result: [String: Tensor] = [:]
        for v in captured { result[v] = outputs[v] ?? batch[v] }
        return result
    }

    /// Feeds every captured value of every batch to its calibrator and returns the ranges.
    public static func calibrate(
        graph: Graph, values: [String], data: some Sequence<Result<[String: Tensor], QuantizerError>>,
        makeCalibrator: () -> any Calibrator
    ) throws -> [String: TensorRange] {
        var capture = try ActivationCapture(graph: graph, values: values)
        var calibrators = [String: any Calibrator]()
        for v in values { calibrators[v] = makeCalibrator() }
        var batches = 0
        for item in data {
            let batch = try item.get()
            let captured = try capture.run(batch)
            for (name, t) in captured {
                guard let floats = t.floats else {
                    throw QuantizerError.calibration(tensor: name, detail: "is \(t.elementType); only float32 values are calibrated")
                }
                floats.withUnsafeBufferPointer { calibrators[name]?.observe($0) }
            }
            batches += 1
        }
        guard batches > 0 else {
            throw QuantizerError.calibrationData(path: "<data>", detail: "no batches; give at least one calibration sample")
        }
        var ranges: [String: TensorRange] = [:]
        for (name, c) in calibrators { ranges[name] = try c.range(tensor: name) }
        return ranges
    }
}
