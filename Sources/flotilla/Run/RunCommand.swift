import ArgumentParser
import Foundation
import ModelIR
import Runtime

/// `flotilla run MODEL.onnx --input X.npy ... [--output OUT.npy | --output-npz OUT.npz]`
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an ONNX model on .npy/.npz inputs with Flotilla's fp32 runtime.",
        discussion: """
            One unnamed --input feeds the model's only input; name inputs with --input NAME=FILE.npy. \
            Symbolic dimensions (the batch) are bound from the input shapes. With several outputs, \
            --output OUT.npy writes OUT.<output name>.npy for each.
            """
    )

    @Argument(help: "The ONNX model.")
    var model: String

    @Option(
        name: .customLong("input"), help: ArgumentHelp("An input tensor: FILE.npy or NAME=FILE.npy (repeatable).", valueName: "[NAME=]FILE")
    )
    var inputs: [String] = []

    @Option(
        name: .customLong("input-npz"), help: ArgumentHelp("An .npz archive whose arrays are named after model inputs.", valueName: "FILE"))
    var inputNPZ: [String] = []

    @Option(help: ArgumentHelp("Write the output to this .npy file.", valueName: "FILE"))
    var output: String?

    @Option(name: .customLong("output-npz"), help: ArgumentHelp("Write every output to this .npz archive.", valueName: "FILE"))
    var outputNPZ: String?

    @Option(name: .customLong("bind"), help: ArgumentHelp("Bind a symbolic dimension, e.g. N=1 (repeatable).", valueName: "SYMBOL=SIZE"))
    var bind: [String] = []

    @Option(help: "Kernel path: auto, reference, or a named path (avx2, avx512).")
    var kernels = "auto"

    func validate() throws {
        if output != nil && outputNPZ != nil { throw ValidationError("give either --output or --output-npz, not both") }
        if inputs.isEmpty && inputNPZ.isEmpty {
            throw ValidationError("give the model's inputs with --input FILE.npy or --input-npz FILE.npz")
        }
    }

    func run() throws {
        let progress = Progress("run", total: 1)
        progress.status("importing \(model)…")
        let (imported, unknown) = try ModelLoader.importForExecution(model)
        let modelInputs = ModelLoader.runtimeInputs(imported.graph)
        let set = try InputSet.load(
            inputs: inputs, npz: inputNPZ, model: modelInputs,
            explicitBindings: try ModelLoader.parseBindings(bind))
        progress.status("planning…")
        let plan = try ModelLoader.plan(imported, bindings: set.bindings, kernels: ModelLoader.kernelPath(kernels), path: model)
        progress.status("running…")
        let start = MonotonicClock.nanoseconds()
        let results: [String: Tensor]
        do {
            results = try plan.makeSession().run(inputs: set.feeds)
        } catch {
            throw CLIError("running '\(model)' failed: \(error)")
        }
        let elapsed = Double(MonotonicClock.nanoseconds() - start) / 1e6
        progress.finish()

        for op in unknown {
            printNote(
                "note: the importer does not know \(op.domain.isEmpty ? "ai.onnx" : op.domain):\(op.opType) (node '\(op.node)'); "
                    + "the runtime runs it as written")
        }
        let bound = set.bindings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        print(
            "model \(model): \(plan.kernelPathName) kernels\(bound.isEmpty ? "" : ", \(bound)"), "
                + String(format: "ran in %.2f ms", elapsed))
        for name in plan.outputs.map(\.name) {
            guard let t = results[name] else { continue }
            print(TensorPreview.lines(name: name, tensor: t).joined(separator: "\n"))
        }
        try write(results, order: plan.outputs.map(\.name))
    }

    private func write(_ results: [String: Tensor], order: [String]) throws {
        if let path = outputNPZ {
            do {
                try NPZFile.write(results, to: URL(fileURLWithPath: path))
            } catch {
                throw CLIError("cannot write outputs \(error)")
            }
            print("wrote \(path) (\(order.joined(separator: ", ")))")
        }
        guard let path = output else { return }
        for name in order {
            guard let t = results[name] else { continue }
            let target = order.count == 1 ? path : Self.path(path, inserting: name)
            do {
                try NPYFile.write(t, to: URL(fileURLWithPath: target))
            } catch {
                throw CLIError("cannot write output '\(name)' \(error)")
            }
            print("wrote \(target)")
        }
    }

    /// "out.npy" + "label" → "out.label.npy", the fixture naming for several outputs. Output
    /// names with path separators are made safe for a file name.
    static func path(_ path: String, inserting name: String) -> String {
        let safe = name.map { $0 == "/" || $0 == "\\" || $0 == ":" ? "_" : $0 }
        let base = path.hasSuffix(".npy") ? String(path.dropLast(4)) : path
        return "\(base).\(String(safe)).npy"
    }
}
