import Coordinator
import Foundation
import ModelArtifact
import TestSupport
import XCTest

/// The HTTP layer over real loopback HTTP, against `RecordingOperations`.
final class APIServerTests: XCTestCase {
    var api: APITestServer!

    override func setUp() async throws {
        api = try await APITestServer.start()
    }

    override func tearDown() async throws {
        await api?.stop()
    }

    func testRequestsWithoutOrWithAWrongTokenAre401AndReachNoOperation() async throws {
        let attempts: [(String, String)] = [
            ("GET", "/v1/devices"), ("GET", "/v1/rollouts/r-7"), ("POST", "/v1/rollouts/r-7/abort"), ("GET", "/metrics"),
            ("GET", "/v1/keys"),
        ]
        for (method, path) in attempts {
            for token: String? in [nil, "wrong-token-0123456789", "alice-token-012345678", "alice-token-01234567890", ""] {
                let r = try await api.raw(method, path, token: token, body: method == "POST" ? Data() : nil)
                XCTAssertEqual(r.status, 401, "\(method) \(path) with token \(token ?? "nil")")
                let body = try APITestServer.errorBody(r.body)
                XCTAssertEqual(body.error, "unauthorized")
                XCTAssertTrue(body.message.contains("token"), body.message)
            }
        }
        // The scheme is checked, not only the secret.
        let basic = try await api.raw("GET", "/v1/devices", token: nil, headers: ["Authorization": "Basic alice-token-0123456789"])
        XCTAssertEqual(basic.status, 401)
        let calls = await api.operations.calls
        XCTAssertEqual(calls, [], "an unauthenticated request reached the operations")

        // Health and the dashboard page are public: they carry no fleet data.
        let health = try await api.raw("GET", "/healthz", token: nil)
        XCTAssertEqual(health.status, 200)
        let page = try await api.raw("GET", "/", token: nil)
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(String(decoding: page.body, as: UTF8.self).contains("<title>Flotilla fleet</title>"))
    }

    func testEachRouteCallsItsOperationWithTheAuthenticatedOperatorAsActor() async throws {
        let start =
            #"{"modelName":"digits","version":"2.0","target":"site=berlin","waves":[0.1,1],"soakSeconds":30,"gate":{"maxP95Ratio":1.3},"onFailure":"all"}"#
        let add =
            #"{"name":"digits","version":"3.0","modelUpload":"u1","evalUpload":"u2","labelsUpload":"u3","budget":0.5,"classes":["x86-avx2"]}"#
        let cases: [(op: String, method: String, path: String, body: String?, status: Int, call: String)] = [
            (
                "alice", "GET", "/v1/devices?selector=site%3Dberlin&class=x86-avx2&online=true", nil, 200,
                "listDevices|site=berlin|x86-avx2|true"
            ),
            ("bob", "GET", "/v1/devices/dev-3", nil, 200, "device|dev-3"),
            (
                "alice", "PATCH", "/v1/devices/dev-1/labels", #"{"set":{"tier":"canary"},"remove":["site"]}"#, 200,
                "updateLabels|dev-1|tier=canary|site"
            ),
            ("bob", "POST", "/v1/releases", add, 202, "addRelease|digits|3.0|u1|x86-avx2"),
            ("alice", "GET", "/v1/releases", nil, 200, "listReleases|"),
            ("bob", "GET", "/v1/releases/digits/2.0", nil, 200, "release|digits|2.0"),
            ("alice", "POST", "/v1/rollouts", start, 201, "startRollout|digits|2.0|site=berlin|0.1,1.0|30.0|all|1.3"),
            (
                "bob", "POST", "/v1/rollouts", #"{"modelName":"digits","version":"2.0","target":"site=berlin","dryRun":true}"#, 200,
                "planRollout|digits|2.0|site=berlin"
            ),
            ("alice", "GET", "/v1/rollouts?limit=5", nil, 200, "listRollouts|5"),
            ("bob", "GET", "/v1/rollouts/r-7", nil, 200, "rollout|r-7"),
            ("alice", "POST", "/v1/rollouts/r-7/pause", nil, 200, "controlRollout|r-7|pause"),
            ("bob", "POST", "/v1/rollouts/r-7/resume", "", 200, "controlRollout|r-7|resume"),
            ("alice", "POST", "/v1/rollouts/r-7/abort", nil, 200, "controlRollout|r-7|abort"),
            ("bob", "POST", "/v1/rollouts/r-7/rollback", #"{"class":"arm64-dot"}"#, 200, "controlRollout|r-7|rollback:arm64-dot"),
            ("alice", "POST", "/v1/rollouts/r-7/rollback", nil, 200, "controlRollout|r-7|rollback:all"),
            (
                "bob", "GET", "/v1/telemetry?model=digits&version=2.0&class=arm64-dot&since=1000", nil, 200,
                "telemetry|digits|2.0|arm64-dot|1000"
            ),
            ("alice", "GET", "/v1/audit?limit=20", nil, 200, "auditLog|20"),
            ("bob", "GET", "/v1/keys", nil, 200, "publicKeys|"),
            ("alice", "GET", "/metrics", nil, 200, "prometheusMetrics|"),
        ]
        var expected: [RecordingOperations.Call] = []
        for c in cases {
            let r = try await api.raw(c.method, c.path, token: APITestServer.tokens[c.op], body: c.body.map { Data($0.utf8) })
            XCTAssertEqual(r.status, c.status, "\(c.method) \(c.path): \(String(decoding: r.body, as: UTF8.self))")
            if c.call.isEmpty { continue }
            let parts = c.call.split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            expected.append(RecordingOperations.Call(operation: parts[0], actor: c.op, argument: parts.count > 1 ? parts[1] : ""))
        }
        let calls = await api.operations.calls
        XCTAssertEqual(calls, expected)

        let metrics = try await api.raw("GET", "/metrics")
        XCTAssertEqual(metrics.headers["Content-Type"] as? String, "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertTrue(String(decoding: metrics.body, as: UTF8.self).contains("flotilla_devices 3\n"))
        let devices = try await api.raw("GET", "/v1/devices")
        let list = try JSONSerialization.jsonObject(with: devices.body) as? [String: Any]
        XCTAssertEqual((list?["items"] as? [Any])?.count, 6)
    }

    func testMalformedRequestsAre400NamingTheFieldAndReachNoOperation() async throws {
        let cases: [(path: String, method: String, body: String?, field: String?, says: String)] = [
            ("/v1/rollouts", "POST", "{not json", nil, "not valid JSON"),
            ("/v1/rollouts", "POST", "[1,2]", nil, "must be a JSON object"),
            ("/v1/rollouts", "POST", #"{"modelName":"digits","version":"2.0","onFailure":"sometimes"}"#, "onFailure", "class, all, none"),
            ("/v1/rollouts", "POST", #"{"modelName":"digits","version":"2.0","waves":[0.5,0.1,1]}"#, "waves[1]", "increasing"),
            ("/v1/rollouts", "POST", #"{"modelName":"digits","version":"2.0","waves":[0.5]}"#, "waves", "last wave must be 1"),
            (
                "/v1/rollouts", "POST", #"{"modelName":"digits","version":"2.0","gate":{"maxP95Ratio":"fast"}}"#, "gate.maxP95Ratio",
                "number"
            ),
            ("/v1/rollouts", "POST", #"{"modelName":"digits","version":"2.0","gate":{"maxP95":1.2}}"#, "gate.maxP95", "not a field"),
            ("/v1/rollouts", "POST", #"{"modelName":"digits","version":"2.0","soak":600}"#, "soak", "soakSeconds"),
            ("/v1/rollouts", "POST", #"{"version":"2.0"}"#, "modelName", "missing"),
            ("/v1/rollouts", "POST", #"{"modelName":"../etc","version":"2.0"}"#, "modelName", "not starting with '.'"),
            (
                "/v1/releases", "POST", #"{"name":"d","version":"1","modelUpload":"u1","evalUpload":"u2","labelsUpload":"u3","budget":-1}"#,
                "budget", "0–100"
            ),
            ("/v1/devices/dev-1/labels", "PATCH", #"{"set":{"class":"x"}}"#, "set", "reserved"),
            ("/v1/devices/dev-1/labels", "PATCH", #"{"set":{"a b":"x"}}"#, "set", "key 'a b'"),
            ("/v1/devices?online=maybe", "GET", nil, "online", "true or false"),
            ("/v1/devices?clas=x86", "GET", nil, "clas", "known: class, online, selector"),
            ("/v1/rollouts?limit=0", "GET", nil, "limit", "1...1000"),
            ("/v1/telemetry?version=2.0", "GET", nil, "version", "needs 'model'"),
            ("/v1/uploads?kind=weights", "POST", "abc", "kind", "model, calibration, eval, labels"),
            ("/v1/rollouts/r-7/rollback", "POST", #"{"cls":"x"}"#, "cls", "not a field"),
        ]
        for c in cases {
            let r = try await api.raw(c.method, c.path, body: c.body.map { Data($0.utf8) })
            XCTAssertEqual(r.status, 400, "\(c.method) \(c.path) \(c.body ?? "")")
            let body = try APITestServer.errorBody(r.body)
            XCTAssertEqual(body.error, "bad_request")
            XCTAssertEqual(body.field, c.field, "\(c.path) \(c.body ?? ""): \(body.message)")
            XCTAssertTrue(body.message.contains(c.says), "\(c.path) \(c.body ?? ""): '\(body.message)' does not say '\(c.says)'")
            if let field = c.field { XCTAssertTrue(body.message.contains(field), "message does not name \(field): \(body.message)") }
        }
        let calls = await api.operations.calls
        XCTAssertEqual(calls, [])
    }

    func testUnknownPathIs404AndWrongMethodIs405() async throws {
        let missing = try await api.raw("GET", "/v1/nothing")
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(try APITestServer.errorBody(missing.body).error, "not_found")
        let wrong = try await api.raw("DELETE", "/v1/rollouts")
        XCTAssertEqual(wrong.status, 405)
        XCTAssertTrue(try APITestServer.errorBody(wrong.body).message.contains("GET or POST"))
        let unknownRollout = try await api.raw("GET", "/v1/rollouts/missing-1")
        XCTAssertEqual(unknownRollout.status, 404)
        XCTAssertEqual(try APITestServer.errorBody(unknownRollout.body).message, "no rollout 'missing-1'")
    }

    func testOversizedJSONBodyIs413AndTheServerKeepsServing() async throws {
        var json = Data(#"{"modelName":"digits","version":"2.0","target":""#.utf8)
        json.append(Data(repeating: UInt8(ascii: "a"), count: 1 << 20))
        json.append(Data(#""}"#.utf8))
        let r = try await api.raw("POST", "/v1/rollouts", body: json)
        XCTAssertEqual(r.status, 413)
        let body = try APITestServer.errorBody(r.body)
        XCTAssertEqual(body.error, "payload_too_large")
        XCTAssertTrue(body.message.contains("1048576"), body.message)
        let after = try await api.raw("GET", "/v1/rollouts/r-7")
        XCTAssertEqual(after.status, 200)
        let calls = await api.operations.calls
        XCTAssertEqual(calls.map(\.operation), ["rollout"])
    }

    func testUploadRoundTripKeepsEveryByteAndItsSHA256() async throws {
        var rng = SplitMix64(seed: 42)
        let bytes = Data((0..<(3 << 20) + 12_345).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        let file = api.directory.appendingPathComponent("model v2.onnx")
        try FileManager.default.createDirectory(at: api.directory, withIntermediateDirectories: true)
        try bytes.write(to: file)
        let expected = try ArtifactTransport.sha256(fileAt: file)

        let upload = try await api.client("bob").upload(file: file, kind: .model)
        XCTAssertEqual(upload.sha256, expected.sha256)
        XCTAssertEqual(upload.size, bytes.count)
        XCTAssertEqual(upload.fileName, "model v2.onnx")
        XCTAssertEqual(upload.kind, .model)
        let kept = await api.operations.uploads
        XCTAssertEqual(kept.count, 1)
        XCTAssertEqual(try Data(contentsOf: try XCTUnwrap(kept.first).temporaryPath), bytes)
        let calls = await api.operations.calls
        XCTAssertEqual(calls, [.init(operation: "registerUpload", actor: "bob", argument: "model|model v2.onnx|\(bytes.count)")])
        XCTAssertEqual(try incomingFiles(), [], "the temporary upload file was left behind")

        // A damaged upload (digest header disagrees) is refused and leaves nothing behind.
        let bad = try await api.raw(
            "POST", "/v1/uploads?kind=eval&fileName=x.npy", body: Data("hello".utf8),
            headers: ["X-Content-SHA256": String(repeating: "0", count: 64)])
        XCTAssertEqual(bad.status, 400)
        XCTAssertEqual(try APITestServer.errorBody(bad.body).field, "X-Content-SHA256")
        XCTAssertEqual(try incomingFiles(), [])
    }

    func testUploadOverTheLimitIs413AndLeavesNoFile() async throws {
        await api.stop()
        api = try await APITestServer.start(maxUploadBytes: 100_000)
        let r = try await api.raw("POST", "/v1/uploads?kind=calibration&fileName=c.npy", body: Data(count: 300_000))
        XCTAssertEqual(r.status, 413)
        XCTAssertEqual(try APITestServer.errorBody(r.body).error, "payload_too_large")
        let exact = try await api.raw("POST", "/v1/uploads?kind=calibration&fileName=c.npy", body: Data(count: 100_000))
        XCTAssertEqual(exact.status, 201)
        XCTAssertEqual(try incomingFiles(), [])
        let calls = await api.operations.calls
        XCTAssertEqual(calls.map(\.argument), ["calibration|c.npy|100000"])
    }

    func testMetricsCanBeOpenedForScrapers() async throws {
        await api.stop()
        api = try await APITestServer.start(openMetrics: true)
        let r = try await api.raw("GET", "/metrics", token: nil)
        XCTAssertEqual(r.status, 200)
        let calls = await api.operations.calls
        XCTAssertEqual(calls, [.init(operation: "prometheusMetrics", actor: nil, argument: "")])
        let devices = try await api.raw("GET", "/v1/devices", token: nil)
        XCTAssertEqual(devices.status, 401, "opening /metrics must not open the API")
    }

    func testStopClosesTheListeningSocket() async throws {
        let url = api.baseURL
        await api.server.stop()
        let client = CoordinatorClient(baseURL: url, token: APITestServer.tokens["alice"] ?? "")
        do {
            _ = try await client.listDevices()
            XCTFail("a stopped server answered")
        } catch {
            guard case .transport = error else { return XCTFail("expected a transport error, got \(error)") }
        }
    }

    private func incomingFiles() throws -> [String] {
        let dir = api.directory.appendingPathComponent("incoming")
        return (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
    }
}
