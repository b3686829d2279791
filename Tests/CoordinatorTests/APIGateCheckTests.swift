import Foundation
import XCTest

@testable import Coordinator

/// A gate check as the API shows it. The first release of a model has no baseline, so its
/// accuracy and agreement checks are skipped with no threshold; `GET /v1/rollouts/{id}` used
/// to encode that as NaN and answer 500 for the whole rollout (found by scripts/demo.sh).
final class APIGateCheckTests: XCTestCase {
    func testSkippedCheckWithoutThresholdEncodesAsNull() throws {
        let skipped = GateCheck(
            metric: .accuracy, measured: 0.9925, baseline: nil, threshold: nil, outcome: .skipped,
            detail: "no baseline accuracy and no absolute floor")
        let api = CoordinatorService.apiCheck(skipped)
        XCTAssertNil(api.threshold)
        XCTAssertEqual(api.measured, 0.9925)
        XCTAssertTrue(api.passed, "a skipped check does not fail the gate")

        let json = try XCTUnwrap(String(data: try APIJSON.encode(api), encoding: .utf8))
        XCTAssertFalse(json.contains("threshold"), "absent, not NaN: \(json)")
        let back = try APIJSON.decodeResponse(APIGateCheck.self, from: Data(json.utf8))
        XCTAssertEqual(back, api)
    }

    func testNonFiniteMeasurementsBecomeNullAndTheRolloutStillEncodes() throws {
        let odd = GateCheck(
            metric: .latencyP95Us, measured: .infinity, baseline: .nan, threshold: .nan, outcome: .inconclusive, detail: "odd")
        let api = CoordinatorService.apiCheck(odd)
        XCTAssertNil(api.measured)
        XCTAssertNil(api.baseline)
        XCTAssertNil(api.threshold)

        var rollout = APIFixtures.rollout
        rollout.waves[0].classes[0].checks.append(api)
        let data = try APIJSON.encode(rollout)
        XCTAssertEqual(try APIJSON.decodeResponse(APIRollout.self, from: data), rollout)
        // The terminal table shows a dash where there is no number.
        let row = try XCTUnwrap(APIText.rolloutStatus(rollout).split(separator: "\n").first { $0.contains("FAIL — odd") })
        let cells = row.split(separator: " ").map(String.init)
        XCTAssertEqual(Array(cells[1...4]), ["latencyP95Us", "-", "-", "-"], String(row))
    }
}
