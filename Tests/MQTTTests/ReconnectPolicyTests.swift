import MQTT
import XCTest

final class ReconnectPolicyTests: XCTestCase {
    func testBackoffGrowsExponentiallyUpToTheCap() {
        var p = MQTTConfiguration.ReconnectPolicy()
        p.initialDelay = .milliseconds(500)
        p.maximumDelay = .seconds(30)
        p.multiplier = 2
        p.jitter = 0
        let delays = (1...10).map { p.delay(attempt: $0, random: 0.5) }
        XCTAssertEqual(delays[0], .milliseconds(500))
        XCTAssertEqual(delays[1], .seconds(1))
        XCTAssertEqual(delays[2], .seconds(2))
        XCTAssertEqual(delays[5], .seconds(16))
        XCTAssertEqual(delays[6], .seconds(30))
        XCTAssertEqual(delays[9], .seconds(30))
    }

    func testJitterStaysWithinItsBand() {
        var p = MQTTConfiguration.ReconnectPolicy()
        p.initialDelay = .seconds(10)
        p.jitter = 0.2
        XCTAssertEqual(p.delay(attempt: 1, random: 0), .seconds(8))
        XCTAssertEqual(p.delay(attempt: 1, random: 1), .seconds(12))
        XCTAssertEqual(p.delay(attempt: 1, random: 0.5), .seconds(10))
    }
}
