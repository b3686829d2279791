import ArgumentParser
import Coordinator
import Foundation

/// `flotilla rollout start|status|pause|resume|abort|rollback`.
struct RolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollout", abstract: "Roll a release out in waves gated on telemetry, watch it, and control it.",
        subcommands: [
            RolloutStart.self, RolloutStatus.self, RolloutControl.Pause.self, RolloutControl.Resume.self, RolloutControl.Abort.self,
            RolloutRollback.self,
        ])
}

struct RolloutStart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a rollout (or plan one with --dry-run).")

    @OptionGroup var coordinator: CoordinatorOptions
    @Argument(help: "Release name.") var name: String
    @Argument(help: "Release version.") var version: String
    @Option(help: ArgumentHelp("Label selector of the devices to update ('' = all).", valueName: "SEL")) var target: String
    @Option(help: ArgumentHelp("Cumulative wave sizes, e.g. 1%,10%,50%,100%.", valueName: "LIST")) var waves = "1%,10%,50%,100%"
    @Option(help: ArgumentHelp("Soak time after each wave before its gate, e.g. 10m.", valueName: "DURATION")) var soak = "10m"
    @Option(name: .customLong("min-devices"), help: "Devices per class that must report before a gate decides.") var minDevices: Int?
    @Option(name: .customLong("min-success"), help: "Install success rate a wave needs (0–1).") var minSuccess: Double?
    @Option(name: .customLong("max-p95-ratio"), help: "Largest p95 latency ratio to the baseline release.") var maxP95Ratio: Double?
    @Option(name: .customLong("max-accuracy-drop"), help: "Largest accuracy drop versus the baseline (absolute).") var maxAccuracyDrop:
        Double?
    @Option(name: .customLong("max-agreement-drop"), help: "Largest agreement drop versus the baseline (absolute).") var maxAgreementDrop:
        Double?
    @Option(
        name: .customLong("gate-timeout"), help: ArgumentHelp("A gate not decided this long after its soak fails.", valueName: "DURATION"))
    var gateTimeout: String?
    @Option(
        name: .customLong("min-latency-samples"),
        help: "Inferences of the new release a class needs before its p95 latency is judged (default 100).")
    var minLatencySamples: Int?
    @Option(name: .customLong("on-failure"), help: ArgumentHelp("What to roll back when a gate fails.", valueName: "class|all|none"))
    var onFailure = "class"
    @Flag(name: .customLong("dry-run"), help: "Only list the devices each wave would hit.") var dryRun = false
    @Flag(help: "Print JSON instead of text.") var json = false

    static func parseWaves(_ text: String) throws -> [Double] {
        try text.split(separator: ",").map { part in
            let s = part.trimmingCharacters(in: .whitespaces)
            let isPercent = s.hasSuffix("%")
            guard let v = Double(isPercent ? String(s.dropLast()) : s) else {
                throw ValidationError("--waves '\(text)': '\(s)' is not a percentage like 10% or a fraction like 0.1")
            }
            return isPercent ? v / 100 : v
        }
    }

    func request() throws -> APIRolloutRequest {
        guard let policy = APIRollbackPolicy(rawValue: onFailure) else { throw ValidationError("--on-failure is class, all or none") }
        let gate = APIGateOptions(
            minDevices: minDevices, minSuccessRate: minSuccess, maxP95Ratio: maxP95Ratio, maxAccuracyDrop: maxAccuracyDrop,
            maxAgreementDrop: maxAgreementDrop,
            gateTimeoutSeconds: try gateTimeout.map { try DurationText.seconds($0, option: "--gate-timeout") },
            minLatencySamples: minLatencySamples)
        let request = APIRolloutRequest(
            modelName: name, version: version, target: target, waves: try Self.parseWaves(waves),
            soakSeconds: try DurationText.seconds(soak, option: "--soak"), gate: gate, onFailure: policy, dryRun: dryRun)
        do { try request.validate() } catch { throw ValidationError(error.message) }
        return request
    }

    func validate() throws { _ = try request() }

    func run() async throws {
        let client = try coordinator.client()
        let request = try request()
        if dryRun {
            let plan = try await apiCall { try await client.planRollout(request) }
            if json { try printJSON(plan) } else { print(APIText.rolloutPlan(plan)) }
            return
        }
        let rollout = try await apiCall { try await client.startRollout(request) }
        if json { try printJSON(rollout) } else { print(APIText.rolloutStatus(rollout)) }
    }
}

struct RolloutStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show one rollout's waves, progress and gates (or list rollouts without an id).")

    @OptionGroup var coordinator: CoordinatorOptions
    @Argument(help: "Rollout id; omit to list rollouts.") var id: String?
    @Flag(help: "Redraw every 2 s until the rollout is finished.") var watch = false
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        let client = try coordinator.client()
        guard let id else {
            let rollouts = try await apiCall { try await client.listRollouts() }
            if json { try printJSON(rollouts) } else { print(APIText.rolloutList(rollouts)) }
            return
        }
        while true {
            let rollout = try await apiCall { try await client.rollout(id: id) }
            if json {
                try printJSON(rollout)
            } else {
                // Clear the screen between redraws only on a terminal.
                if watch && Progress.terminalAttached { print("\u{1B}[H\u{1B}[2J", terminator: "") }
                print(APIText.rolloutStatus(rollout))
            }
            guard watch, !rollout.isFinished else { return }
            try await Task.sleep(nanoseconds: 2_000_000_000)
        }
    }
}

/// pause / resume / abort: one id, one verb.
enum RolloutControl {
    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pause", abstract: "Stop advancing waves (devices keep what they have).")
        @OptionGroup var coordinator: CoordinatorOptions
        @Argument(help: "Rollout id.") var id: String
        func run() async throws { try await RolloutControl.send(.pause, id: id, coordinator) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resume", abstract: "Continue a paused rollout.")
        @OptionGroup var coordinator: CoordinatorOptions
        @Argument(help: "Rollout id.") var id: String
        func run() async throws { try await RolloutControl.send(.resume, id: id, coordinator) }
    }

    struct Abort: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "abort", abstract: "Stop the rollout and cancel downloads in flight (no rollback).")
        @OptionGroup var coordinator: CoordinatorOptions
        @Argument(help: "Rollout id.") var id: String
        func run() async throws { try await RolloutControl.send(.abort, id: id, coordinator) }
    }

    static func send(_ command: APIRolloutCommand, id: String, _ options: CoordinatorOptions) async throws {
        let client = try options.client()
        let rollout = try await apiCall { try await client.controlRollout(id: id, command: command) }
        print(APIText.rolloutStatus(rollout))
    }
}

struct RolloutRollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback", abstract: "Roll the updated devices of one class (or all) back to the previous release.")
    @OptionGroup var coordinator: CoordinatorOptions
    @Argument(help: "Rollout id.") var id: String
    @Option(name: .customLong("class"), help: ArgumentHelp("Only this hardware class.", valueName: "C")) var hardwareClass: String?
    func run() async throws { try await RolloutControl.send(.rollback(hardwareClass: hardwareClass), id: id, coordinator) }
}
