import Foundation
import MQTTTestSupport
import XCTest

/// Password file and ACL, enforced by the real broker against the real clients.
final class MosquittoBrokerAuthTests: XCTestCase {
    func testRightPasswordConnectsAndWrongOneIsRefused() async throws {
        var options = MosquittoBroker.Options()
        options.users = ["device-1": "correct horse", "operator": "battery staple"]
        let broker = try await MosquittoBroker.start(options)
        let config = try String(contentsOf: broker.configurationFile, encoding: .utf8)
        XCTAssertTrue(config.contains("allow_anonymous false\n"), config)

        let device = MosquittoClient(broker, connection: ["-u", "device-1", "-P", "correct horse"])
        let (received, _) = try await device.roundTrip("auth/ok", "in")
        XCTAssertEqual(received.status, 0, "\(received)\n\(broker.log)")
        XCTAssertEqual(received.output, "auth/ok in\n")

        let intruder = MosquittoClient(broker, connection: ["-u", "device-1", "-P", "battery staple"])
        let refused = try await intruder.subscribe("auth/#", seconds: 2)
        XCTAssertNotEqual(refused.status, 0, "\(refused)")
        XCTAssertTrue(refused.errors.contains("not authorised"), "\(refused)")

        let anonymous = try await MosquittoClient(broker).subscribe("auth/#", seconds: 2)
        XCTAssertNotEqual(anonymous.status, 0, "\(anonymous)")
        XCTAssertTrue(anonymous.errors.contains("not authorised"), "\(anonymous)")
    }

    func testAllowAnonymousOverrideLetsAnonymousInBesideUsers() async throws {
        var options = MosquittoBroker.Options()
        options.users = ["device-1": "pw"]
        options.allowAnonymous = true
        let broker = try await MosquittoBroker.start(options)
        let (received, _) = try await MosquittoClient(broker).roundTrip("anon/ok", "in")
        XCTAssertEqual(received.output, "anon/ok in\n", "\(received)\n\(broker.log)")
        let wrong = try await MosquittoClient(broker, connection: ["-u", "device-1", "-P", "nope"]).subscribe("anon/#", seconds: 2)
        XCTAssertTrue(wrong.errors.contains("not authorised"), "\(wrong)")
    }

    func testACLDeniesATopicAndAllowsAnother() async throws {
        var options = MosquittoBroker.Options()
        options.users = ["admin": "admin-pw", "device": "device-pw"]
        options.acl = """
            user admin
            topic readwrite #

            user device
            topic readwrite allowed/#
            """
        let broker = try await MosquittoBroker.start(options)
        let admin = MosquittoClient(broker, connection: ["-u", "admin", "-P", "admin-pw"])
        let device = MosquittoClient(broker, connection: ["-u", "device", "-P", "device-pw"])
        let secret = try await admin.publish("secret/plan", "hidden", retain: true)
        XCTAssertEqual(secret.status, 0, "\(secret)")
        let news = try await admin.publish("allowed/news", "visible", retain: true)
        XCTAssertEqual(news.status, 0, "\(news)")

        let denied = try await device.subscribe("secret/#", seconds: 1)
        XCTAssertEqual(denied.output, "", "the ACL let the device read secret/#: \(denied)")
        XCTAssertNotEqual(denied.status, 0, "\(denied)")

        let allowed = try await device.subscribe("allowed/#")
        XCTAssertEqual(allowed.status, 0, "\(allowed)\n\(broker.log)")
        XCTAssertEqual(allowed.output, "allowed/news visible\n")

        // The device may publish under allowed/ (the admin sees it) …
        let published = try await device.publish("allowed/report", "from-device", retain: true)
        XCTAssertEqual(published.status, 0, "\(published)")
        let seen = try await admin.subscribe("allowed/report")
        XCTAssertEqual(seen.output, "allowed/report from-device\n", "\(seen)\n\(broker.log)")
        // … but its publish to secret/ is dropped by the broker.
        _ = try await device.publish("secret/forged", "from-device", retain: true)
        let forged = try await admin.subscribe("secret/forged", seconds: 1)
        XCTAssertEqual(forged.output, "", "the ACL let the device write secret/forged: \(forged)")
    }
}
