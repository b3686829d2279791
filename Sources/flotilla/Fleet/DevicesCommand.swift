import ArgumentParser
import Coordinator

/// `flotilla devices [--selector S] [--class C] [--json]` and `flotilla devices label ID k=v ...`.
struct DevicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices", abstract: "List the fleet's devices, or set their labels.",
        subcommands: [DevicesList.self, DevicesLabel.self], defaultSubcommand: DevicesList.self)
}

struct DevicesList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List devices (the default).")

    @OptionGroup var coordinator: CoordinatorOptions
    @Option(help: ArgumentHelp("Label selector, e.g. 'site=berlin,tier in (canary)'.", valueName: "S")) var selector: String?
    @Option(name: .customLong("class"), help: ArgumentHelp("Only this hardware class.", valueName: "C")) var hardwareClass: String?
    @Flag(help: "Only online devices.") var online = false
    @Flag(help: "Print JSON instead of a table.") var json = false

    func run() async throws {
        let client = try coordinator.client()
        let devices = try await apiCall {
            try await client.listDevices(APIDeviceQuery(selector: selector, hardwareClass: hardwareClass, online: online ? true : nil))
        }
        if json { try printJSON(devices) } else { print(APIText.devices(devices)) }
    }
}

struct DevicesLabel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "label", abstract: "Set labels (k=v) and remove labels (--remove k) of one device.")

    @OptionGroup var coordinator: CoordinatorOptions
    @Argument(help: "The device id.") var id: String
    @Argument(help: ArgumentHelp("Labels to set.", valueName: "k=v")) var labels: [String] = []
    @Option(name: .customLong("remove"), help: ArgumentHelp("A label to remove (repeatable).", valueName: "k")) var remove: [String] = []
    @Flag(help: "Print JSON instead of a table.") var json = false

    func validate() throws {
        if labels.isEmpty && remove.isEmpty { throw ValidationError("give labels to set (k=v) or --remove k") }
        for label in labels where !label.contains("=") { throw ValidationError("'\(label)' is not k=v") }
    }

    func run() async throws {
        var set: [String: String] = [:]
        for label in labels {
            let parts = label.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            set[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        let client = try coordinator.client()
        let device = try await apiCall { try await client.updateLabels(deviceID: id, change: APILabelChange(set: set, remove: remove)) }
        if json { try printJSON(device) } else { print(APIText.devices([device])) }
    }
}
