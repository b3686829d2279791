// Fleet benchmark: a rollout of a ~5 MB artifact to 1000 simulated devices, telemetry ingest,
// memory. benchmarks/fleet/run.sh starts the broker and runs these modes as separate
// processes (coordinator and fleet apart, so each has its own RSS); docs/benchmarks.md,
// "Fleet", says what is measured.
import Foundation

do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    let deadline = ContinuousClock.now + .seconds(options.timeoutSeconds)
    switch options.mode {
    case "rollout-coordinator": try await RolloutCoordinator(options: options, deadline: deadline).run()
    case "rollout-fleet": try await RolloutFleet(options: options, deadline: deadline).run()
    case "ingest": try await IngestBench(options: options, deadline: deadline).runCoordinator()
    case "ingest-peer": try await IngestBench(options: options, deadline: deadline).runPeer()
    case "agent-memory": try AgentMemoryBench(options: options).run()
    case "agent-floors": try AgentFloorsBench(options: options).run()
    default: throw BenchError("unknown mode '\(options.mode)'\n\(Options.usage)")
    }
} catch {
    note("\(error)")
    exit(1)
}
