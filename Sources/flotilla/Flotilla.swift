import ArgumentParser
import Runtime

@main
struct Flotilla: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flotilla",
        abstract: "Quantize ONNX models per hardware class and roll them out to device fleets.",
        version: "0.1.0",
        subcommands: [
            InspectCommand.self, RunCommand.self, BenchCommand.self, QuantizeCommand.self, SimulateCommand.self, CPUInfo.self,
            DevicesCommand.self, ModelCommand.self, RolloutCommand.self, TelemetryCommand.self, AuditCommand.self,
            CACommand.self, DeviceCommand.self,
        ]
    )
}

/// `flotilla cpu`: what this machine's CPU offers the int8 kernels.
struct CPUInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpu",
        abstract: "Print the CPU features the int8 kernels can use on this machine."
    )

    func run() throws {
        print(CPUFeatures.current.description)
    }
}
