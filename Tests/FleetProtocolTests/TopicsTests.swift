import FleetProtocol
import XCTest

final class TopicsTests: XCTestCase {
    func testDeviceTopicsRoundTrip() throws {
        for kind in Topics.DeviceTopic.allCases {
            let topic = try Topics.device("dev-01:a_b.c", kind)
            XCTAssertTrue(topic.hasPrefix("flotilla/v1/devices/dev-01:a_b.c/"))
            XCTAssertEqual(try Topics.parse(topic), .device(id: "dev-01:a_b.c", kind: kind))
        }
        XCTAssertEqual(try Topics.device("d1", .chunkRequest), "flotilla/v1/devices/d1/chunks/request")
    }

    func testArtifactTopicsRoundTrip() throws {
        let topic = try Topics.artifact(hardwareClass: "arm-dotprod", artifactDigest: digestA, .chunks)
        XCTAssertEqual(topic, "flotilla/v1/artifacts/arm-dotprod/\(digestA)/chunks")
        XCTAssertEqual(try Topics.parse(topic), .artifact(hardwareClass: "arm-dotprod", artifactDigest: digestA, kind: .chunks))
        XCTAssertEqual(
            try Topics.parse("flotilla/v1/artifacts/c/\(digestB)/cancel"),
            .artifact(hardwareClass: "c", artifactDigest: digestB, kind: .cancel))
    }

    func testIDsThatWouldEscapeTheirTopicAreRefused() {
        for bad in ["", "a/b", "a+", "#", "dev 1", "$SYS", "é", String(repeating: "x", count: 129), "a\u{0}b"] {
            XCTAssertThrowsError(try Topics.device(bad, .state), "id '\(bad)'") { error in
                guard case .invalidID(_, let what, _) = error as? ProtocolError else { return XCTFail("\(error)") }
                XCTAssertEqual(what, "device id")
            }
        }
        XCTAssertNoThrow(try Topics.device(String(repeating: "x", count: 128), .state))
        XCTAssertThrowsError(try Topics.artifact(hardwareClass: "c", artifactDigest: digestA.uppercased(), .chunks))
        XCTAssertThrowsError(try Topics.artifact(hardwareClass: "c", artifactDigest: "abc", .chunks))
    }

    func testParseRefusesForeignVersionsAndShapes() {
        let cases: [(String, String)] = [
            ("flotilla/v2/devices/d/state", "protocol version 'v2'"),
            ("other/v1/devices/d/state", "namespace"),
            ("flotilla/v1/devices/d/bogus", "unknown device topic kind"),
            ("flotilla/v1/devices/d+x/state", "device id"),
            ("flotilla/v1/devices/d", "expected devices"),
            ("flotilla/v1/artifacts/c/\(digestA)/chunks/3", "expected artifacts"),
            ("flotilla/v1/artifacts/c/nothex/chunks", "artifact digest"),
            ("flotilla/v1/fleet", "expected devices/... or artifacts/..."),
        ]
        for (topic, fragment) in cases {
            XCTAssertThrowsError(try Topics.parse(topic), topic) { error in
                guard case .invalidTopic(let t, _) = error as? ProtocolError else { return XCTFail("\(error)") }
                XCTAssertEqual(t, topic)
                XCTAssertTrue("\(error)".contains(fragment), "\(error) should mention \(fragment)")
            }
        }
    }

    func testSharedFiltersMatchDeviceTopics() throws {
        let filter = try TopicFilter(Topics.sharedDeviceFilter(.state))
        XCTAssertEqual(filter.shareGroup, "coordinators")
        XCTAssertTrue(filter.matches(try Topics.device("d9", .state)))
        XCTAssertFalse(filter.matches(try Topics.device("d9", .events)))
        let requests = try TopicFilter(Topics.sharedDeviceFilter(.chunkRequest))
        XCTAssertTrue(requests.matches(try Topics.device("d9", .chunkRequest)))
    }

    func testFilterRules() throws {
        XCTAssertTrue(try TopicFilter("a/#").matches("a"))
        XCTAssertTrue(try TopicFilter("a/#").matches("a/b/c"))
        XCTAssertTrue(try TopicFilter("a/+/c").matches("a/b/c"))
        XCTAssertFalse(try TopicFilter("a/+/c").matches("a/b/d"))
        XCTAssertFalse(try TopicFilter("a/+").matches("a/b/c"))
        XCTAssertFalse(try TopicFilter("#").matches("$SYS/broker"))
        XCTAssertTrue(try TopicFilter("+/x").matches("/x"))
        for bad in ["a/#/b", "a/b#", "a+/b", "", "$share/g", "$share//a"] {
            XCTAssertThrowsError(try TopicFilter(bad), bad)
        }
    }
}
