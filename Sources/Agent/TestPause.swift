public import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A test-only pause point: with `FLOTILLA_AGENT_TEST_PAUSE_AT=<phase>` in its environment the
/// agent, right after persisting the first state in that phase (and before any side effect of
/// that phase), creates the marker file `<dataDirectory>/test-paused-at-<phase>` and waits there
/// until it is killed. Crash tests use it to SIGKILL the real process inside a window that
/// would otherwise be a race (an install that takes a few milliseconds). Without the variable
/// nothing changes; a device never sets it (docs/agent.md, "Test-only pause point").
public struct TestPause: Sendable, Equatable {
    public static let environmentVariable = "FLOTILLA_AGENT_TEST_PAUSE_AT"

    public var phase: UpdatePhaseKind

    public init(phase: UpdatePhaseKind) { self.phase = phase }

    /// The pause asked for by the environment; an unknown phase name is an error, so a typo
    /// does not turn a crash test into one that silently races again.
    public static func fromEnvironment(_ environment: [String: String]) throws(AgentError) -> TestPause? {
        guard let value = environment[environmentVariable], !value.isEmpty else { return nil }
        guard let phase = UpdatePhaseKind(rawValue: value) else {
            throw .invalidConfig(
                field: environmentVariable,
                detail: "names '\(value)', not a phase; use one of \(UpdatePhaseKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return TestPause(phase: phase)
    }

    /// Where the marker is written.
    public static func markerPath(dataDirectory: URL, phase: UpdatePhaseKind) -> String {
        dataDirectory.appendingPathComponent("test-paused-at-\(phase.rawValue)").path
    }
}

extension AgentService {
    /// Called after a state was persisted: holds the agent if it is the pause point's phase.
    /// The wait is an async sleep (it blocks no thread); only cancellation (a clean stop) ends
    /// it, and then the agent goes on as if nothing happened.
    func pauseIfAsked(after state: UpdateState) async {
        guard let pause = config.testPause, pause.phase == state.phase.kind, !pausedOnce else { return }
        pausedOnce = true
        let marker = TestPause.markerPath(dataDirectory: config.dataDirectory, phase: pause.phase)
        do { try DurableFile.replace(marker, with: Array("\(getpid())\n".utf8)) } catch {
            log("test pause: cannot write the marker: \(error)")
        }
        log("test pause: holding after persisting '\(pause.phase.rawValue)' until killed (\(TestPause.environmentVariable))")
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }
}
