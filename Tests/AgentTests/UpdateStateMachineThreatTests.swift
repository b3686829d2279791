import Agent
import FleetProtocol
import Foundation
import XCTest

/// The state machine's side of the threat model (docs/threat-model.md): replayed desired
/// states after a restart, downgrades without the matching directive, artifacts announced
/// larger than the device accepts. Values only, no I/O.
final class UpdateStateMachineThreatTests: XCTestCase {
    let running = InstalledModel(artifact: artifact(5, digest: digestNew), slot: .b)
    let previous = InstalledModel(artifact: artifact(4, digest: digestOld), slot: .a)

    static func refusal(_ actions: [UpdateAction]) -> FailureReason? {
        for case .publishEvent(.desiredStateRefused, _, _, let reason?) in actions { return reason }
        return nil
    }

    static func startsDownload(_ actions: [UpdateAction]) -> Bool {
        actions.contains { if case .startDownload = $0 { true } else { false } }
    }

    /// The high-water mark travels in the persisted state: a machine rebuilt from the JSON the
    /// agent writes refuses what the old one would have refused.
    func testReplayIsRefusedByAMachineRebuiltFromPersistedState() throws {
        let config = UpdateConfig(hardwareClass: "x86")
        var m = UpdateStateMachine(config: config, state: UpdateState(active: running))
        _ = m.handle(desired(40, running.artifact), now: 0)
        XCTAssertEqual(m.state.lastDesiredSequence, 40)

        let persisted = try JSONEncoder().encode(m.state)
        var restarted = UpdateStateMachine(config: config, state: try JSONDecoder().decode(UpdateState.self, from: persisted))
        _ = restarted.handle(.agentRestarted, now: 1)
        // Older sequences, whatever they name: a newer release, an older one with a valid
        // directive, nothing at all.
        let replays: [UpdateEvent] = [
            desired(39, artifact(6, digest: digestThird)),
            desired(7, previous.artifact, rollback: RollbackDirective(fromReleaseSequence: 5, toReleaseSequence: 4, reason: "old halt")),
            desired(40, artifact(6, digest: digestThird)),
            desired(1, nil),
        ]
        for replay in replays {
            let before = restarted.state
            let actions = restarted.handle(replay, now: 2)
            let reason = try XCTUnwrap(Self.refusal(actions), "\(replay) was not refused: \(actions)")
            XCTAssertEqual(reason.code, .invalidDesiredState)
            XCTAssertTrue(reason.detail.contains("replay"), reason.detail)
            XCTAssertEqual(restarted.state, before, "a replay changes nothing, not even the high-water mark")
            XCTAssertFalse(Self.startsDownload(actions))
        }
        // The next genuine one is taken.
        XCTAssertTrue(Self.startsDownload(restarted.handle(desired(41, artifact(6, digest: digestThird)), now: 3)))
    }

    /// A replay arriving while a trial runs is refused at once, not deferred until it ends.
    func testReplayDuringATrialIsNotDeferred() {
        let config = UpdateConfig(hardwareClass: "x86")
        var m = UpdateStateMachine(config: config, state: UpdateState(active: previous))
        _ = m.handle(desired(10, running.artifact), now: 0)
        _ = m.handle(.downloadComplete, now: 1)
        _ = m.handle(.digestVerified, now: 2)
        _ = m.handle(.installed, now: 3)
        XCTAssertEqual(m.state.phase.kind, .trial)
        let actions = m.handle(desired(9, artifact(7, digest: digestThird)), now: 4)
        XCTAssertEqual(Self.refusal(actions)?.code, .invalidDesiredState)
        XCTAssertNil(m.state.deferred)
    }

    /// Older release, same model: only with a directive naming exactly the running release
    /// and the target.
    func testDowngradeNeedsADirectiveFromTheRunningReleaseToTheTarget() {
        let config = UpdateConfig(hardwareClass: "x86")
        let target = artifact(3, digest: digestThird)
        let cases: [(RollbackDirective?, FailureReason.Code?)] = [
            (nil, .downgradeRefused),
            (RollbackDirective(fromReleaseSequence: 4, toReleaseSequence: 3, reason: "wrong from"), .downgradeRefused),
            (RollbackDirective(fromReleaseSequence: 5, toReleaseSequence: 2, reason: "wrong to"), .downgradeRefused),
            (RollbackDirective(fromReleaseSequence: 5, toReleaseSequence: 3, reason: "incident 12"), nil),
        ]
        for (directive, expected) in cases {
            var m = UpdateStateMachine(config: config, state: UpdateState(phase: .committed(watchUntilMs: 0), active: running))
            let actions = m.handle(desired(2, target, rollback: directive), now: 0)
            XCTAssertEqual(Self.refusal(actions)?.code, expected, "directive \(String(describing: directive))")
            XCTAssertEqual(Self.startsDownload(actions), expected == nil)
            XCTAssertEqual(m.state.active, running)
        }
        // The directive with the previous slot holding the target: switch back, no download.
        var m = UpdateStateMachine(
            config: config, state: UpdateState(phase: .committed(watchUntilMs: 0), active: running, previous: previous))
        let actions = m.handle(
            desired(2, previous.artifact, rollback: RollbackDirective(fromReleaseSequence: 5, toReleaseSequence: 4, reason: "halt")), now: 0
        )
        XCTAssertEqual(m.state.phase.kind, .rollingBack)
        XCTAssertFalse(Self.startsDownload(actions))
    }

    /// Announced sizes above the cap: refused before any download starts, naming the form,
    /// the size and the cap; the sequence is consumed so the same message is not re-handled.
    func testArtifactAnnouncedAboveTheCapIsRefusedBeforeDownloading() throws {
        // `artifact(_:digest:)` announces 3000 bytes compressed, 4000 uncompressed.
        for (cap, form, size) in [(3999, "uncompressed", 4000.0), (2999, "compressed", 3000.0)] {
            var m = UpdateStateMachine(
                config: UpdateConfig(hardwareClass: "x86", maxArtifactBytes: cap), state: UpdateState(active: previous))
            let actions = m.handle(desired(1, running.artifact), now: 0)
            let reason = try XCTUnwrap(Self.refusal(actions))
            XCTAssertEqual(reason.code, .invalidDesiredState)
            XCTAssertEqual(reason.metric, "\(form)Bytes")
            XCTAssertEqual(reason.measured, size)
            XCTAssertEqual(reason.threshold, Double(cap))
            XCTAssertTrue(reason.detail.contains("maxArtifactBytes"), reason.detail)
            XCTAssertFalse(Self.startsDownload(actions))
            XCTAssertEqual(m.state.phase, .idle)
            XCTAssertEqual(m.state.lastDesiredSequence, 1)
        }
        var m = UpdateStateMachine(config: UpdateConfig(hardwareClass: "x86", maxArtifactBytes: 4000), state: UpdateState(active: previous))
        XCTAssertTrue(Self.startsDownload(m.handle(desired(1, running.artifact), now: 0)), "exactly at the cap fits")
        var zero = running.artifact
        zero.transport.uncompressedSize = 0
        var z = UpdateStateMachine(config: UpdateConfig(hardwareClass: "x86"), state: UpdateState(active: previous))
        XCTAssertEqual(Self.refusal(z.handle(desired(1, zero), now: 0))?.metric, "uncompressedBytes")
    }
}
