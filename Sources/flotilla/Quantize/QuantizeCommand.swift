import ArgumentParser
import Foundation
import ModelIR
import Quantizer
import Runtime
import Zstd

/// `flotilla quantize MODEL.onnx --calibration DATA --eval DATA --labels LABELS --class NAME|all
///  --budget 0.5 -o OUTDIR [--report] [--export-qdq OUT.onnx]`
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize an fp32 ONNX model to int8 per hardware class, evaluate it and report.",
        discussion: """
            Static post-training quantization to QDQ form with accuracy-aware tuning: the class's \
            calibrators in order, then per-layer fp32 fallback until the budget holds. Accuracy is \
            measured with the int8 reference kernels (bit-exact with every class's optimized path). \
            Writes OUTDIR/report.json, OUTDIR/report.txt and OUTDIR/<class>.qdq.onnx (runs on ONNX Runtime).
            """
    )

    @Argument(help: "The fp32 ONNX model.")
    var model: String

    @Option(
        help: ArgumentHelp(
            "Calibration samples: .npy (the model's single input), .npz (one array per input) or a directory of them. Without it, MatMul/Gemm layers are quantized dynamically.",
            valueName: "DATA"))
    var calibration: String?

    @Option(
        name: .customLong("eval"), help: ArgumentHelp("Labelled evaluation inputs: .npy or .npz, samples on axis 0.", valueName: "DATA"))
    var evalData: String

    @Option(help: ArgumentHelp("Class index per evaluation sample (.npy).", valueName: "LABELS"))
    var labels: String

    @Option(name: .customLong("class"), help: ArgumentHelp("A hardware class name, or all.", valueName: "NAME|all"))
    var hardwareClass = "all"

    @Option(help: "Maximum top-1 drop versus fp32, in percentage points.")
    var budget = 0.5

    @Option(name: .customLong("min-agreement"), help: "Also require this fraction of int8 top-1 equal to fp32 top-1 (0–1).")
    var minAgreement: Double?

    @Option(name: .customLong("time-budget"), help: "Seconds of tuning per class before the best candidate so far is kept.")
    var timeBudget = 600.0

    @Option(name: .customLong("batch"), help: "Calibration batch size.")
    var batch = 64

    @Option(name: .customLong("profiles"), help: ArgumentHelp("Extra directory of hardware-class profiles (repeatable).", valueName: "DIR"))
    var profileDirectories: [String] = []

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("Output directory.", valueName: "OUTDIR"))
    var outputDirectory: String

    @Flag(help: "Print the readable report on stdout.")
    var report = false

    @Option(
        name: .customLong("export-qdq"),
        help: ArgumentHelp("Also write the QDQ ONNX model here (with --class all: OUT.<class>.onnx).", valueName: "OUT.onnx"))
    var exportQDQ: String?

    func validate() throws {
        if budget < 0 { throw ValidationError("--budget must be ≥ 0 percentage points") }
        if let a = minAgreement, !(0...1).contains(a) { throw ValidationError("--min-agreement is a fraction in [0, 1]") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if timeBudget <= 0 { throw ValidationError("--time-budget must be positive") }
    }

    func say(_ s: String) { FileHandle.standardError.write(Data(("quantize: " + s + "\n").utf8)) }

    func run() throws {
        say("importing \(model)…")
        let (fp32, _) = try ModelLoader.importForExecution(model)
        let inputs = ModelLoader.runtimeInputs(fp32.graph)
        let registry: HardwareClassRegistry
        do {
            registry = try HardwareClassRegistry.standard(userDirectories: profileDirectories.map { URL(fileURLWithPath: $0) })
        } catch {
            throw CLIError("cannot load hardware classes: \(error)")
        }
        let classes = hardwareClass == "all" ? registry.classes : registry.named(hardwareClass).map { [$0] } ?? []
        guard !classes.isEmpty else {
            throw CLIError("no hardware class '\(hardwareClass)'; known: \(registry.classes.map(\.name).joined(separator: ", ")), or all")
        }
        var calibrationData: CalibrationData?
        if let calibration {
            do {
                calibrationData = try CalibrationData(
                    url: ModelLoader.existingFile(calibration), inputNames: inputs.map(\.name), batchSize: batch)
            } catch {
                throw CLIError.wrapping(error, path: calibration, doing: "cannot read calibration data")
            }
        }
        let evaluation = try loadEvaluation(inputs: inputs)
        let out = URL(fileURLWithPath: outputDirectory)
        do { try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true) } catch {
            throw CLIError("cannot create \(outputDirectory): \(error)")
        }
        let budget = AccuracyBudget(maxDropPoints: budget, minAgreement: minAgreement)
        let evaluator = ModelEvaluator(kernels: .reference, compressedSize: { try? Zstd.compress($0).count })
        var reports: [QuantizationReport.ClassReport] = []
        for profile in classes {
            say("\(profile.name): tuning (budget \(budget))…")
            let tuner = AccuracyTuner(
                profile: profile, budget: budget, timeBudget: .milliseconds(Int64(timeBudget * 1000)), evaluator: evaluator,
                progress: { FileHandle.standardError.write(Data(("quantize: " + $0 + "\n").utf8)) })
            let outcome: AccuracyTuner.Outcome
            do {
                if let calibrationData {
                    outcome = try tuner.tune(fp32, calibration: calibrationData, evaluation: evaluation)
                } else {
                    say("\(profile.name): no --calibration: dynamic quantization of MatMul/Gemm (no tuning)")
                    outcome = try tuner.tuneDynamic(fp32, evaluation: evaluation)
                }
            } catch {
                throw CLIError("quantizing '\(model)' for \(profile.name) failed: \(error)")
            }
            var file: URL? = out.appendingPathComponent("\(profile.name).qdq.onnx")
            var entry = QuantizationReport.ClassReport(outcome: outcome, budget: budget)
            do {
                if let f = file { try QDQONNXExporter.export(outcome.model.model, to: f) }
                if let e = exportQDQ {
                    let target =
                        classes.count == 1
                        ? URL(fileURLWithPath: e)
                        : URL(fileURLWithPath: e).deletingPathExtension().appendingPathExtension("\(profile.name).onnx")
                    try QDQONNXExporter.export(outcome.model.model, to: target)
                }
            } catch {
                // The evaluation stands without the file; say why it is missing.
                file = nil
                entry.warnings.append("no ONNX file written: \(error)")
                say("\(profile.name): \(error)")
            }
            entry.output = file?.path
            say(
                "\(profile.name): \(outcome.budgetMet ? "budget met" : "budget MISSED"), int8 top-1 \(outcome.result.int8Accuracy)\(file.map { ", wrote \($0.path)" } ?? "")"
            )
            reports.append(entry)
        }
        let r = QuantizationReport(
            model: model, evaluatedWith: "int8 reference kernels, \(evaluation.count) labelled samples", classes: reports)
        do {
            try r.json().write(to: out.appendingPathComponent("report.json"))
            try Data(r.table().utf8).write(to: out.appendingPathComponent("report.txt"))
        } catch {
            throw CLIError("cannot write the report to \(outputDirectory): \(error)")
        }
        if report { print(r.table(), terminator: "") }
        if reports.contains(where: { !$0.budgetMet }) { throw ExitCode(2) }
    }

    func loadEvaluation(inputs: [ValueInfo]) throws -> EvaluationSet {
        do {
            let url = try ModelLoader.existingFile(evalData)
            var tensors: [String: Tensor]
            if url.pathExtension == "npz" {
                tensors = try NPZFile.read(url)
            } else {
                guard inputs.count == 1, let name = inputs.first?.name else {
                    throw CLIError("the model has \(inputs.count) inputs; give --eval as an .npz with one array per input")
                }
                tensors = [name: try NPYFile.read(url)]
            }
            tensors = tensors.filter { k, _ in inputs.contains { $0.name == k } }
            return try EvaluationSet(inputs: tensors, labels: NPYFile.read(ModelLoader.existingFile(labels)))
        } catch let e as CLIError {
            throw e
        } catch {
            throw CLIError.wrapping(error, path: evalData, doing: "cannot read evaluation data")
        }
    }
}
