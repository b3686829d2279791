import ArgumentParser
import Coordinator
import Foundation
import ModelArtifact
import Quantizer

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
            Writes OUTDIR/report.json, OUTDIR/report.txt and OUTDIR/<class>.qdq.onnx (runs on ONNX Runtime); \
            with --artifacts also OUTDIR/<class>.flotilla (signed device artifact with a validation bundle) and \
            OUTDIR/<class>.flotilla.zst (its transport form), whose SHA-256 digests go to stdout.
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

    @Flag(help: "Also write OUTDIR/<class>.flotilla (signed, with a validation bundle) and OUTDIR/<class>.flotilla.zst.")
    var artifacts = false

    @Option(
        help: ArgumentHelp(
            "Ed25519 private key (PKCS#8 PEM, mode 0600) to sign artifacts; without it a new key is written to OUTDIR/signing-key.pem.",
            valueName: "FILE"))
    var key: String?

    @Option(help: "Model name in the artifact manifest (default: the model file's name).")
    var name: String?

    @Option(name: .customLong("model-version"), help: "Model version in the artifact manifest.")
    var modelVersion = "0.0.0"

    @Option(name: .customLong("release-sequence"), help: "Release sequence in the manifest (monotonic per model).")
    var releaseSequence: UInt64 = 1

    @Option(name: .customLong("validation-samples"), help: "Evaluation samples in each artifact's validation bundle.")
    var validationSamples = 64

    @Flag(name: .customLong("allow-missed-budget"), help: "Write artifacts for classes that miss the budget (flagged in the manifest).")
    var allowMissedBudget = false

    func validate() throws {
        if budget < 0 { throw ValidationError("--budget must be ≥ 0 percentage points") }
        if let a = minAgreement, !(0...1).contains(a) { throw ValidationError("--min-agreement is a fraction in [0, 1]") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
        if timeBudget <= 0 { throw ValidationError("--time-budget must be positive") }
        if validationSamples < 1 { throw ValidationError("--validation-samples must be at least 1") }
        if !artifacts && (key != nil || name != nil) { throw ValidationError("--key and --name apply to --artifacts") }
    }

    func say(_ s: String) { FileHandle.standardError.write(Data(("quantize: " + s + "\n").utf8)) }

    func run() throws {
        let out = URL(fileURLWithPath: outputDirectory)
        do { try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true) } catch {
            throw CLIError("cannot create \(outputDirectory): \(error)")
        }
        let registry: HardwareClassRegistry
        do {
            registry = try ReleaseBuilder.registry(profileDirectories: profileDirectories.map { URL(fileURLWithPath: $0) })
        } catch {
            throw CLIError("\(error)")
        }
        let request = ReleaseBuildRequest(
            model: URL(fileURLWithPath: model), calibration: calibration.map { URL(fileURLWithPath: $0) },
            evaluation: URL(fileURLWithPath: evalData), labels: URL(fileURLWithPath: labels),
            budget: AccuracyBudget(maxDropPoints: budget, minAgreement: minAgreement),
            timeBudgetPerClass: .milliseconds(Int64(timeBudget * 1000)), calibrationBatchSize: batch,
            hardwareClasses: hardwareClass == "all" ? [] : [hardwareClass], artifacts: try artifactOptions(out))
        let builder = ReleaseBuilder(request: request, registry: registry)
        let classCount = (try? builder.selectedClasses().count) ?? 1
        let exportQDQ = self.exportQDQ
        let result: ReleaseBuildResult
        do {
            say("importing \(model)…")
            result = try builder.build(
                progress: { p in
                    guard let detail = p.detail else { return }
                    let text = detail.hasPrefix(p.hardwareClass + ":") ? detail : "\(p.hardwareClass): \(detail)"
                    FileHandle.standardError.write(Data("quantize: \(text)\n".utf8))
                },
                afterQuantizing: { q, profile in
                    Self.exportONNX(q, profile: profile, out: out, exportQDQ: exportQDQ, singleClass: classCount == 1)
                })
        } catch {
            throw CLIError("\(error)")
        }
        for v in result.variants {
            if let r = v.report {
                say("\(v.hardwareClass): \(r.budgetMet ? "budget met" : "budget MISSED"), int8 top-1 \(r.evaluation.int8Accuracy)")
            }
            if let f = v.failure { say("\(v.hardwareClass): \(f)") }
        }
        do {
            try result.report.json().write(to: out.appendingPathComponent("report.json"))
            try Data(result.report.table().utf8).write(to: out.appendingPathComponent("report.txt"))
        } catch {
            throw CLIError("cannot write the report to \(outputDirectory): \(error)")
        }
        if report { print(result.report.table(), terminator: "") }
        for b in result.built {
            print("\(b.hardwareClass) \(b.artifactPath.path) sha256:\(b.transport.uncompressedSHA256) \(b.artifactBytes) B")
            print("\(b.hardwareClass) \(b.transportPath.path) sha256:\(b.transport.compressedSHA256) \(b.compressedBytes) B")
        }
        // 1: a class failed outright (or its artifact could not be written); 2: a budget was missed.
        let broken = result.variants.contains { v in
            v.report == nil || (artifacts && v.artifact == nil && v.report?.budgetMet == true)
        }
        if broken { throw ExitCode.failure }
        if result.variants.contains(where: { $0.report?.budgetMet == false }) { throw ExitCode(2) }
    }

    /// The artifact settings, with the signing key read from --key or made and written beside
    /// the output.
    func artifactOptions(_ out: URL) throws -> ArtifactOptions? {
        guard artifacts else { return nil }
        let signingKey: ArtifactSigningKey
        if let key {
            do { signingKey = try SigningKeyFile.read(URL(fileURLWithPath: key)) } catch {
                throw CLIError("--key: \(error)")
            }
        } else {
            signingKey = ArtifactSigningKey.generate()
            let file = out.appendingPathComponent("signing-key.pem"), pub = out.appendingPathComponent("signing-key.pub.pem")
            do { try SigningKeyFile.write(signingKey, to: file, publicKeyTo: pub) } catch {
                throw CLIError("cannot write a new signing key (\(error)); give one with --key FILE or remove the old file")
            }
            say(
                "warning: no --key; signed with a NEW key \(signingKey.keyID) written to \(file.path) (public: \(pub.path)). "
                    + "Devices accept these artifacts only if they pin that public key.")
        }
        let defaultName = URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent
        return ArtifactOptions(
            modelName: name ?? defaultName, modelVersion: modelVersion, releaseSequence: releaseSequence, signingKey: signingKey,
            outputDirectory: out, createdBy: "flotilla \(Flotilla.configuration.version)", validationSamples: validationSamples,
            requireBudget: !allowMissedBudget)
    }

    /// OUTDIR/<class>.qdq.onnx (and --export-qdq); a failure is recorded in the report.
    static func exportONNX(_ q: QuantizedModel, profile: HardwareClass, out: URL, exportQDQ: String?, singleClass: Bool)
        -> ReleaseBuilder.Extras
    {
        let file = out.appendingPathComponent("\(profile.name).qdq.onnx")
        do {
            try QDQONNXExporter.export(q.model, to: file)
            if let e = exportQDQ {
                let target =
                    singleClass
                    ? URL(fileURLWithPath: e)
                    : URL(fileURLWithPath: e).deletingPathExtension().appendingPathExtension("\(profile.name).onnx")
                try QDQONNXExporter.export(q.model, to: target)
            }
            return ReleaseBuilder.Extras(output: file.path)
        } catch {
            // The evaluation stands without the file; say why it is missing.
            FileHandle.standardError.write(Data("quantize: \(profile.name): \(error)\n".utf8))
            return ReleaseBuilder.Extras(output: nil, warnings: ["no ONNX file written: \(error)"])
        }
    }
}
