import Coordinator
import XCTest

/// The terminal rendering of `flotilla rollout status` (and its progress bar).
final class APITextTests: XCTestCase {
    func testProgressBarShowsCommittedFailedAndPending() {
        XCTAssertEqual(APIText.progressBar(updated: 4, failed: 1, total: 10), "[########xx----------]  50%")
        XCTAssertEqual(APIText.progressBar(updated: 1, failed: 0, total: 1), "[####################] 100%")
        XCTAssertEqual(APIText.progressBar(updated: 0, failed: 0, total: 50), "[--------------------]   0%")
        XCTAssertEqual(APIText.progressBar(updated: 1, failed: 0, total: 1000, width: 10), "[#---------]   0%")
        XCTAssertEqual(APIText.progressBar(updated: 0, failed: 3, total: 3, width: 4), "[xxxx] 100%")
        XCTAssertEqual(APIText.progressBar(updated: 0, failed: 0, total: 0, width: 4), "[    ]    -")
    }

    /// `rollout status --watch` stops on these; completedWithHaltedClasses (a class rolled
    /// back, the others done) is as final as completed.
    func testRolloutIsFinishedOnTerminalAndHaltedStatuses() {
        var rollout = APIFixtures.rollout
        var finished: [String] = []
        for status in RolloutStatus.allCases.map(\.rawValue) + ["someFutureStatus"] {
            rollout.status = status
            if rollout.isFinished { finished.append(status) }
        }
        XCTAssertEqual(finished, ["halted", "completed", "completedWithHaltedClasses", "aborted", "rolledBack"])
    }

    func testRolloutStatusShowsWavesClassesAndGateChecks() {
        let text = APIText.rolloutStatus(APIFixtures.rollout)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(lines.first, "Rollout r-7: digits 2.0 (release 2) — running (wave 2 of 4)")
        XCTAssertTrue(lines.contains("  arm64-dot halted at wave 1: p95 latency 1.45× baseline"))
        XCTAssertTrue(
            lines.contains {
                $0.hasPrefix(
                    "  target 'site in (berlin,lyon)', soak 10m, on failure: roll back the failing class; started by alice at 2026-02-02 02:40:00Z"
                )
            })
        XCTAssertTrue(lines.contains("     1     1%  x86-avx2   [####################] 100%      1/1       0  passed  passed"))
        XCTAssertTrue(lines.contains("               arm64-dot  [####################] 100%      1/1       0  FAILED"))
        XCTAssertTrue(lines.contains("     2    10%  x86-avx2   [########xx----------]  50%     4/10       1  -       deploying"))
        XCTAssertTrue(lines.contains("     4   100%  x86-avx2   [--------------------]   0%    0/100       0  -       pending"))
        XCTAssertTrue(
            lines.contains {
                $0.hasPrefix("  x86-avx2   active            5       812 µs    790 µs   +2.8%     0.967     0.969      0.989")
            })
        XCTAssertTrue(
            lines.contains {
                $0.hasPrefix(
                    "  arm64-dot  rolledBack        1      2030 µs   1400 µs  +45.0%     0.968     0.969          -  p95 latency 2030 µs > 1680 µs"
                )
            })
        XCTAssertTrue(lines.contains("Gate checks of wave 1"))
        XCTAssertTrue(lines.contains("  arm64-dot  latencyP95Us      2030      1400       1680  FAIL — 1.45× baseline, allowed 1.2×"))
        XCTAssertTrue(lines.contains("  x86-avx2   accuracy         0.967     0.969      0.949  pass"))
    }

    func testListAndPlanRenderings() {
        let list = APIText.rolloutList([APIFixtures.rollout])
        XCTAssertTrue(list.contains("r-7  digits  2.0      running  2/4   site in (berlin,lyon)  alice       2026-02-02 02:40:00Z"), list)
        let plan = APIText.rolloutPlan(APIFixtures.plan)
        XCTAssertTrue(plan.contains("     1    50%  x86-avx2             2  dev-0, dev-1"), plan)
        let devices = APIText.devices(APIFixtures.devices)
        XCTAssertTrue(devices.hasSuffix("6 devices (arm64-dot 2, x86-avx2 4), 5 online"), devices)
        XCTAssertEqual(APIText.rolloutList([]), "No rollouts.")
    }
}
