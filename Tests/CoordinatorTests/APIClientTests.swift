import Coordinator
import Foundation
import XCTest

/// `CoordinatorClient` against the real server: typed answers, and the server's own error
/// messages carried to the caller.
final class APIClientTests: XCTestCase {
    var api: APITestServer!

    override func setUp() async throws { api = try await APITestServer.start() }
    override func tearDown() async throws { await api?.stop() }

    func testClientDecodesEveryAnswer() async throws {
        let client = api.client()
        let devices = try await client.listDevices(APIDeviceQuery(hardwareClass: "arm64-dot"))
        XCTAssertEqual(devices.map(\.id), ["dev-4", "dev-5"])
        let relabelled = try await client.updateLabels(deviceID: "dev-0", change: APILabelChange(set: ["tier": "canary"], remove: ["site"]))
        XCTAssertEqual(relabelled.labels, ["tier": "canary"])
        let v1 = try await client.release(name: "digits", version: "2.0")
        XCTAssertEqual(v1, APIFixtures.release)
        let v2 = try await client.listReleases()
        XCTAssertEqual(v2, [APIFixtures.release])
        let v3 = try await client.rollout(id: "r-7")
        XCTAssertEqual(v3, APIFixtures.rollout)
        let v4 = try await client.planRollout(APIRolloutRequest(modelName: "digits", version: "2.0", target: "site=berlin"))
        XCTAssertEqual(v4, APIFixtures.plan)
        let v5 = try await client.controlRollout(id: "r-7", command: .rollback(hardwareClass: "arm64-dot"))
        XCTAssertEqual(v5, APIFixtures.rollout)
        let v6 = try await client.telemetry(APITelemetryQuery(modelName: "digits"))
        XCTAssertEqual(v6, APIFixtures.telemetry)
        let v7 = try await client.auditLog()
        XCTAssertEqual(v7.map(\.action), ["rollout.start"])
        let v8 = try await client.publicKeys()
        XCTAssertEqual(v8.map(\.keyID), ["0a1b2c3d4e5f6071"])
        let v9 = try await client.metrics()
        XCTAssertTrue(v9.hasPrefix("# HELP flotilla_devices"))
        let calls = await api.operations.calls
        XCTAssertEqual(calls.last(where: { $0.operation == "controlRollout" })?.argument, "r-7|rollback:arm64-dot")
        XCTAssertTrue(calls.allSatisfy { $0.actor == "alice" })
    }

    func testNamesWithReservedCharactersSurviveThePath() async throws {
        let release = try await api.client().release(name: "team/digits net", version: "1.0+build.7")
        XCTAssertEqual(release.name, "team/digits net")
        XCTAssertEqual(release.version, "1.0+build.7")
        let devices = try await api.client().listDevices(APIDeviceQuery(selector: "tier in (a,b),site!=x&y"))
        XCTAssertEqual(devices.count, 6)
        let calls = await api.operations.calls
        XCTAssertEqual(calls.map(\.argument), ["team/digits net|1.0+build.7", "tier in (a,b),site!=x&y|-|-"])
    }

    func testClientSurfacesTheServersErrors() async throws {
        let client = api.client("bob")
        await assertServerError(404, "not_found", "no device 'missing-9'") { _ = try await client.device(id: "missing-9") }
        await assertServerError(409, "conflict", "rollout 'done' is completed; a finished rollout cannot be paused") {
            _ = try await client.controlRollout(id: "done", command: .pause)
        }
        await assertServerError(409, "conflict", "release digits 1.0 exists already; pick a new version") {
            _ = try await client.addRelease(
                APIAddReleaseRequest(name: "digits", version: "1.0", modelUpload: "u1", evalUpload: "u2", labelsUpload: "u3", budget: 1))
        }
        await assertServerError(400, "bad_request", "'waves[1]' is 0.05; waves are cumulative fractions, increasing, each in (0, 1]") {
            _ = try await client.startRollout(APIRolloutRequest(modelName: "digits", version: "2.0", target: "", waves: [0.1, 0.05, 1]))
        }
        let stranger = CoordinatorClient(baseURL: api.baseURL, token: "someone-else-0123456789")
        await assertServerError(401, "unauthorized", "the bearer token is not valid; check the token file the coordinator was given") {
            _ = try await stranger.listRollouts()
        }
        do {
            _ = try await client.device(id: "missing-9")
        } catch {
            XCTAssertEqual(error.description, "coordinator refused (404 not_found): no device 'missing-9'")
        }
    }

    private func assertServerError(
        _ status: Int, _ code: String, _ message: String, line: UInt = #line, _ body: () async throws -> Void
    ) async {
        do {
            try await body()
            XCTFail("the call succeeded", line: line)
        } catch let error as CoordinatorClientError {
            XCTAssertEqual(error, .server(status: status, code: code, message: message, field: error.fieldForComparison), line: line)
        } catch {
            XCTFail("unexpected error \(error)", line: line)
        }
    }
}

extension CoordinatorClientError {
    fileprivate var fieldForComparison: String? {
        if case .server(_, _, _, let field) = self { return field }
        return nil
    }
}
