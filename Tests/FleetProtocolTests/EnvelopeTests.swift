import FleetProtocol
import XCTest

final class EnvelopeTests: XCTestCase {
    func roundTrip<M: WireMessage & Equatable>(_ message: M, file: StaticString = #filePath, line: UInt = #line) throws {
        let bytes = MessageEnvelope.encode(message)
        XCTAssertEqual(try MessageEnvelope.decode(M.self, from: bytes), message, file: file, line: line)
        XCTAssertEqual(MessageEnvelope.encode(message), bytes, "encoding is deterministic", file: file, line: line)
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("{\"body\":"), text, file: file, line: line)
        XCTAssertTrue(text.contains("\"type\":\"\(M.messageType)\",\"v\":\"1.0\"}"), text, file: file, line: line)
    }

    func testEveryMessageRoundTrips() throws {
        var histogram = LatencyHistogram()
        for v in [120, 340, 5000, 77] as [UInt64] { histogram.record(v) }
        let reason = FailureReason(code: .validationFailed, detail: "accuracy", metric: "accuracy", measured: 0.71, threshold: 0.75)
        try roundTrip(
            DesiredState(
                deviceID: "d1", sequence: 42, issuedAtMs: 1_700_000_000_000, artifact: sampleDescriptor(),
                trial: TrialPolicy(shadowSeconds: 60),
                rollback: RollbackDirective(fromReleaseSequence: 8, toReleaseSequence: 7, reason: "halt"), rolloutID: "r-1"))
        try roundTrip(DesiredState(deviceID: "d1", sequence: 1, issuedAtMs: 0, artifact: nil))
        try roundTrip(
            DeviceStateReport(
                deviceID: "d1", hardwareClass: "x86-avx2", agentVersion: "0.1", sequence: 3, reportedAtMs: 5,
                running: RunningModel(
                    modelName: "m", modelVersion: "1", releaseSequence: 7, artifactDigest: digestA, slot: .b, status: .trial),
                phase: "validating", pendingReleaseSequence: 7, desiredSequence: 42,
                lastRollback: RollbackRecord(releaseSequence: 6, artifactDigest: digestB, reason: reason, atMs: 9)))
        try roundTrip(OnlineStatus(deviceID: "d1", online: true, connectionSequence: 12, hardwareClass: "x86-avx2", atMs: 4))
        try roundTrip(
            DeviceEvent(
                deviceID: "d1", sequence: 8, atMs: 6, kind: .rolledBack, releaseSequence: 7, artifactDigest: digestA, reason: reason))
        try roundTrip(
            TelemetrySummary(
                deviceID: "d1", sequence: 2, windowStartMs: 0, windowEndMs: 60_000, artifactDigest: digestA, releaseSequence: 7,
                state: "committed",
                latencyUs: histogram, inferences: 4, errors: 1, validationAccuracy: 0.9, validationAgreement: 0.99, rssBytes: 50 << 20))
        try roundTrip(
            ChunkRequest(deviceID: "d1", hardwareClass: "c", artifactDigest: digestA, missing: [ChunkRange(first: 3, count: 2)], attempt: 2)
        )
        try roundTrip(DownloadCancel(hardwareClass: "c", artifactDigest: digestA, releaseSequence: 7, reason: "wave halted"))
    }

    func testUnknownMajorVersionIsRefusedByName() {
        let bytes = Array(#"{"v":"2.0","type":"onlineStatus","body":{}}"#.utf8)
        XCTAssertThrowsError(try MessageEnvelope.decode(OnlineStatus.self, from: bytes)) { error in
            XCTAssertEqual(error as? ProtocolError, .unsupportedVersion(found: "2.0", supportedMajor: 1))
            XCTAssertTrue("\(error)".contains("'2.0'"))
        }
    }

    func testUnknownFieldsAndNewerMinorAreIgnored() throws {
        let text = #"""
            {"v":"1.7","type":"onlineStatus","extra":[1,2],"body":{"deviceID":"d","online":false,"connectionSequence":3,
            "hardwareClass":"c","atMs":1,"futureField":{"x":true}}}
            """#
        let status = try MessageEnvelope.decode(OnlineStatus.self, from: Array(text.utf8))
        XCTAssertEqual(status, OnlineStatus(deviceID: "d", online: false, connectionSequence: 3, hardwareClass: "c", atMs: 1))
    }

    func testMalformedMessagesAreTypedErrors() {
        let cases: [(String, String)] = [
            ("not json", "\"v\""),
            (#"{"v":"one","type":"onlineStatus","body":{}}"#, "major.minor"),
            (#"{"v":"1.0","type":"deviceEvent","body":{}}"#, "deviceEvent"),
            (
                #"{"v":"1.0","type":"onlineStatus","body":{"deviceID":"d","online":"yes","connectionSequence":3,"hardwareClass":"c","atMs":1}}"#,
                ".body.online"
            ),
            (
                #"{"v":"1.0","type":"onlineStatus","body":{"deviceID":"d","online":true,"hardwareClass":"c","atMs":1}}"#,
                "connectionSequence"
            ),
        ]
        for (text, fragment) in cases {
            XCTAssertThrowsError(try MessageEnvelope.decode(OnlineStatus.self, from: Array(text.utf8)), text) { error in
                XCTAssertNotNil(error as? ProtocolError)
                XCTAssertTrue("\(error)".contains(fragment), "\(error) should mention \(fragment)")
            }
        }
        XCTAssertThrowsError(
            try MessageEnvelope.decode(OnlineStatus.self, from: [UInt8](repeating: 32, count: MessageEnvelope.maxMessageBytes + 1)))
    }

    func testOnlineStatusOrdering() {
        let online = OnlineStatus(deviceID: "d", online: true, connectionSequence: 5, hardwareClass: "c", atMs: 0)
        var staleWill = online
        staleWill.online = false
        staleWill.connectionSequence = 4
        XCTAssertTrue(online.supersedes(staleWill))
        XCTAssertFalse(staleWill.supersedes(online))
        var will = online
        will.online = false
        XCTAssertTrue(will.supersedes(online))
    }

    func testChunkRequestIndicesAreClippedToTheArtifact() {
        let request = ChunkRequest(
            deviceID: "d", hardwareClass: "c", artifactDigest: digestA,
            missing: [
                ChunkRange(first: 2, count: 3), ChunkRange(first: 9, count: 100), ChunkRange(first: -4, count: 2),
                ChunkRange(first: 50, count: 1),
            ],
            attempt: 1)
        XCTAssertEqual(request.indices(chunkCount: 12), [2, 3, 4, 9, 10, 11])
        XCTAssertEqual(
            ChunkRequest(deviceID: "d", hardwareClass: "c", artifactDigest: digestA, missing: [], attempt: 1).indices(chunkCount: 3),
            [0, 1, 2])
    }
}
