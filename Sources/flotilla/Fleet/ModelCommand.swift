import ArgumentParser
import Coordinator
import Foundation

/// `flotilla model add|list|show`.
struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Add model releases to the coordinator and inspect them.",
        subcommands: [ModelAdd.self, ModelList.self, ModelShow.self])
}

struct ModelAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Upload an fp32 ONNX model with its data and build a release for every hardware class in the fleet (or those listed).")

    @OptionGroup var coordinator: CoordinatorOptions
    @Argument(help: "The fp32 ONNX model.") var model: String
    @Option(help: "Release name.") var name: String
    @Option(help: "Release version.") var version: String
    @Option(help: ArgumentHelp("Calibration samples (.npy/.npz).", valueName: "DATA")) var calibration: String?
    @Option(name: .customLong("eval"), help: ArgumentHelp("Labelled evaluation inputs (.npy/.npz).", valueName: "DATA")) var evalData:
        String
    @Option(help: ArgumentHelp("Class index per evaluation sample (.npy).", valueName: "L")) var labels: String
    @Option(help: ArgumentHelp("Maximum top-1 drop versus fp32, in percentage points.", valueName: "B")) var budget: Double
    @Option(name: .customLong("min-agreement"), help: "Also require this fraction of int8 top-1 equal to fp32 top-1 (0–1).")
    var minAgreement: Double?
    @Option(
        name: .customLong("class"),
        help: ArgumentHelp("A hardware class to build (repeatable; default: every class in the fleet).", valueName: "C"))
    var classes: [String] = []
    @Flag(help: "Wait until every variant is built, with a progress line.") var wait = false
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        let client = try coordinator.client()
        var ids: [APIUploadKind: String] = [:]
        let files: [(APIUploadKind, String?)] = [(.model, model), (.calibration, calibration), (.eval, evalData), (.labels, labels)]
        for case let (kind, path?) in files {
            let url = try ModelLoader.existingFile(path)
            printNote("uploading \(kind.rawValue) \(path)…")
            let upload = try await apiCall { try await client.upload(file: url, kind: kind) }
            ids[kind] = upload.id
        }
        let add = APIAddReleaseRequest(
            name: name, version: version, modelUpload: ids[.model] ?? "", calibrationUpload: ids[.calibration],
            evalUpload: ids[.eval] ?? "",
            labelsUpload: ids[.labels] ?? "", budget: budget, minAgreement: minAgreement, classes: classes.isEmpty ? nil : classes)
        var release = try await apiCall { try await client.addRelease(add) }
        printNote(
            "release \(release.name) \(release.version) (sequence \(release.releaseSequence)) is building for \(release.classes.joined(separator: ", "))"
        )
        if wait {
            let progress = Progress("building", total: release.classes.count)
            while release.status == .building {
                progress.update(release.variants.filter { $0.status != .building }.count)
                try await Task.sleep(nanoseconds: 2_000_000_000)
                release = try await apiCall { try await client.release(name: name, version: version) }
            }
            progress.finish()
            if json { try printJSON(release) } else { print(APIText.release(release)) }
            if release.status == .failed {
                throw CLIError("the build of \(name) \(version) failed: \(release.error ?? "see the report above")")
            }
        } else if json {
            try printJSON(release)
        }
    }
}

struct ModelList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List model releases, newest first.")
    @OptionGroup var coordinator: CoordinatorOptions
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() async throws {
        let client = try coordinator.client()
        let releases = try await apiCall { try await client.listReleases() }
        if json { try printJSON(releases) } else { print(APIText.releases(releases)) }
    }
}

struct ModelShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one release: its variants per class and their quantization reports.")
    @OptionGroup var coordinator: CoordinatorOptions
    @Argument(help: "Release name.") var name: String
    @Argument(help: "Release version.") var version: String
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        let client = try coordinator.client()
        let release = try await apiCall { try await client.release(name: name, version: version) }
        if json { try printJSON(release) } else { print(APIText.release(release)) }
    }
}
