import ArgumentParser
import Foundation
import ModelIR
import Runtime

/// `flotilla bench MODEL.onnx [--input X.npy] [--runs 200] [--warmup 20] [--profile] [--json]`
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure single-thread latency of an ONNX model on Flotilla's fp32 runtime.",
        discussion: """
            Runs the model --warmup times, then --runs times, on one thread, and reports p50/p95/p99/min/mean \
            and a histogram. Without --input, inputs are seeded N(0,1) data with symbolic dimensions bound by \
            --bind (default 1). --profile adds time per node and per op type.
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

    @Option(help: "Timed runs.")
    var runs = 200

    @Option(help: "Untimed runs before timing.")
    var warmup = 20

    @Option(name: .customLong("bind"), help: ArgumentHelp("Bind a symbolic dimension, e.g. N=1 (repeatable).", valueName: "SYMBOL=SIZE"))
    var bind: [String] = []

    @Option(help: "Kernel path: auto, reference, or a named path (avx2, avx512).")
    var kernels = "auto"

    @Option(help: "Intra-op threads per run (1, the default, is the single-thread benchmark).")
    var threads = 1

    @Option(help: "Seed of the generated inputs.")
    var seed: UInt64 = 20240607

    @Flag(help: "Plan every int8 conv NCHW (skip the channels-last pass), for comparison.")
    var nchw = false

    @Flag(help: "Also time every step inside whole-model runs and sum the time per op type.")
    var profile = false

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    func validate() throws {
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup cannot be negative") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let progress = Progress("bench", total: runs)
        progress.status("importing \(model)…")
        let (imported, _) = try ModelLoader.importForExecution(model)
        let modelInputs = ModelLoader.runtimeInputs(imported.graph)
        let explicit = try ModelLoader.parseBindings(bind)
        let (feeds, bindings, sources) = try makeInputs(modelInputs, explicit: explicit)

        progress.status("planning…")
        let planStart = MonotonicClock.nanoseconds()
        let path = ModelLoader.kernelPath(kernels)
        let plan = try ModelLoader.plan(imported, bindings: bindings, kernels: path, path: model, threads: threads, channelsLast: !nchw)
        let planMs = Double(MonotonicClock.nanoseconds() - planStart) / 1e6
        let samples = try measure(plan, feeds: feeds, progress: progress)
        progress.finish()
        guard let stats = LatencyStats(microseconds: samples) else { throw CLIError("no samples were taken") }
        let histogram = LatencyHistogram(microseconds: samples, stats: stats)

        var report = BenchReport(
            model: model, kernels: plan.kernelPathName, threads: plan.threads, bindings: bindings,
            inputs: modelInputs.compactMap { i in
                feeds[i.name].map {
                    BenchReport.Input(name: i.name, elementType: $0.elementType.rawValue, shape: $0.shape, source: sources[i.name] ?? "")
                }
            },
            warmup: warmup, planMs: planMs, latencyUs: stats, histogram: histogram, steps: plan.stepCount,
            peakArenaBytes: plan.peakArenaBytes, naiveArenaBytes: plan.naiveArenaBytes, constantBytes: plan.constantBytes,
            profile: nil)
        if profile {
            let repeats = min(max(runs / 4, 20), 200)
            report.profile = try OpProfile.measure(
                model: imported, bindings: bindings, kernels: path, threads: threads, channelsLast: !nchw, feeds: feeds, repeats: repeats,
                progress: Progress("profiled run", total: repeats))
        }
        print(json ? try JSONText.encode(report) : report.renderText())
    }

    /// Inputs from files (binding symbols from their shapes), or seeded random data with the
    /// symbols bound by --bind or to 1.
    private func makeInputs(_ modelInputs: [ValueInfo], explicit: [String: Int])
        throws -> (feeds: [String: Tensor], bindings: [String: Int], sources: [String: String])
    {
        if !inputs.isEmpty || !inputNPZ.isEmpty {
            let set = try InputSet.load(inputs: inputs, npz: inputNPZ, model: modelInputs, explicitBindings: explicit)
            return (set.feeds, set.bindings, set.tensors.mapValues(\.source))
        }
        var bindings = explicit
        for i in modelInputs {
            for s in i.type.shape?.symbols ?? [] where bindings[s] == nil { bindings[s] = 1 }
        }
        var generator = SeededGenerator(seed: seed)
        var feeds: [String: Tensor] = [:]
        var sources: [String: String] = [:]
        for i in modelInputs {
            guard let dims = i.type.shape?.substituting(bindings).concrete else {
                throw CLIError("input '\(i.name)' has shape \(i.type.userDescription) with no known rank; give it with --input FILE.npy")
            }
            feeds[i.name] = try RandomInput.tensor(i.type.elementType, shape: dims, using: &generator)
            sources[i.name] = "random (seed \(seed))"
        }
        return (feeds, bindings, sources)
    }

    /// Wall time of each run in microseconds; outputs go to preallocated buffers so the loop
    /// measures the model, not allocation of result tensors.
    private func measure(_ plan: ExecutionPlan, feeds: [String: Tensor], progress: Progress) throws -> [Double] {
        let session = plan.makeSession()
        var storage: [UnsafeMutableRawBufferPointer] = []
        defer { for b in storage { b.deallocate() } }
        var outputs: [String: UnsafeMutableRawBufferPointer] = [:]
        for o in plan.outputs {
            let b = UnsafeMutableRawBufferPointer.allocate(byteCount: max(o.type.byteCount, 1), alignment: 64)
            storage.append(b)
            outputs[o.name] = UnsafeMutableRawBufferPointer(rebasing: b[0..<o.type.byteCount])
        }
        do {
            for _ in 0..<warmup { try session.run(inputs: feeds, outputs: outputs) }
            var samples: [Double] = []
            samples.reserveCapacity(runs)
            for i in 0..<runs {
                let start = MonotonicClock.nanoseconds()
                try session.run(inputs: feeds, outputs: outputs)
                samples.append(Double(MonotonicClock.nanoseconds() - start) / 1000)
                progress.update(i + 1)
            }
            return samples
        } catch {
            throw CLIError("running '\(model)' failed: \(error)")
        }
    }
}
