import ArgumentParser
import Coordinator

/// `flotilla telemetry [--model N --version V] [--class C]`.
struct TelemetryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "telemetry", abstract: "Latency, accuracy and errors per release and hardware class.")
    @OptionGroup var coordinator: CoordinatorOptions
    @Option(help: "Only this model.") var model: String?
    @Option(help: "Only this version (needs --model).") var version: String?
    @Option(name: .customLong("class"), help: ArgumentHelp("Only this hardware class.", valueName: "C")) var hardwareClass: String?
    @Flag(help: "Print JSON (with the time buckets) instead of a table.") var json = false

    func validate() throws {
        if version != nil && model == nil { throw ValidationError("--version needs --model") }
    }

    func run() async throws {
        let client = try coordinator.client()
        let report = try await apiCall {
            try await client.telemetry(APITelemetryQuery(modelName: model, version: version, hardwareClass: hardwareClass))
        }
        if json { try printJSON(report) } else { print(APIText.telemetry(report)) }
    }
}

/// `flotilla audit`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Who did what and when, newest first.")
    @OptionGroup var coordinator: CoordinatorOptions
    @Option(help: "How many entries.") var limit = 50
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() async throws {
        let client = try coordinator.client()
        let entries = try await apiCall { try await client.auditLog(APIAuditQuery(limit: limit)) }
        if json { try printJSON(entries) } else { print(APIText.audit(entries)) }
    }
}
