import XCTest

@testable import Coordinator

/// The pass rules as values: instants are plain milliseconds here.
final class DeliveryChunkPassTests: XCTestCase {
    /// A pass opened at `now` with the publisher's defaults (500 ms quiet, 2000 ms at most).
    func open(at now: Int, _ wanted: [Int]) -> ChunkPass<Int> {
        var pass = ChunkPass(now: now, quietUntil: now + 500, latest: now + 2000)
        pass.merge(wanted, quietUntil: now + 500)
        return pass
    }

    func drain(_ pass: inout ChunkPass<Int>, _ n: Int = .max) -> [Int] {
        var sent: [Int] = []
        while sent.count < n, let i = pass.next() { sent.append(i) }
        return sent
    }

    func testTheWindowExtendsWhileRequestsKeepComingButNotBeyondTheBound() {
        var pass = open(at: 0, Array(0..<4))
        XCTAssertEqual(pass.notBefore, 500)
        XCTAssertFalse(pass.isDue(499))
        // Joiners every 300 ms: each moves the start to 500 ms after itself...
        for t in [300, 600, 900, 1200] { pass.merge(Array(0..<4), quietUntil: t + 500) }
        XCTAssertEqual(pass.notBefore, 1700)
        XCTAssertFalse(pass.isDue(1699))
        // ...until the bound, 2000 ms after the first request.
        pass.merge(Array(0..<4), quietUntil: 1900)
        pass.merge(Array(0..<4), quietUntil: 2300)
        XCTAssertEqual(pass.notBefore, 2000)
        XCTAssertTrue(pass.isDue(2000))
        // A quiet gap longer than the window lets the pass start without waiting for the bound.
        var quiet = open(at: 0, [0])
        quiet.merge([1], quietUntil: 200 + 500)
        XCTAssertTrue(quiet.isDue(700))
        XCTAssertEqual(quiet.notBefore, 700)
    }

    func testOnceStartedARequestNeitherDelaysNorRestartsThePass() {
        var pass = open(at: 0, Array(0..<10))
        XCTAssertEqual(drain(&pass, 4), [0, 1, 2, 3])
        // A device joins now, asking for everything: it hears 4...9 as the pass goes on, and
        // gets 0...3 when the sweep wraps round; no chunk goes twice for it, none is delayed
        // for the devices already in the pass.
        pass.merge(Array(0..<10), quietUntil: 10_000)
        XCTAssertEqual(pass.notBefore, 500, "a running pass is not held back")
        XCTAssertEqual(drain(&pass), [4, 5, 6, 7, 8, 9, 0, 1, 2, 3])
        XCTAssertTrue(pass.isEmpty)
        XCTAssertNil(pass.next())
    }

    func testGapsAndResumesJoinTheSweepWhereItStands() {
        var pass = open(at: 0, Array(0..<10))
        XCTAssertEqual(drain(&pass, 6), [0, 1, 2, 3, 4, 5])
        // A resuming device misses 2 and 8 (8 is still ahead: sent once, in its turn).
        pass.merge([2, 8], quietUntil: 0)
        XCTAssertEqual(drain(&pass, 3), [6, 7, 8])
        // A stalled device re-asks for 7 after the sweep passed it, and for 9 still ahead.
        pass.merge([7, 9], quietUntil: 0)
        XCTAssertEqual(drain(&pass), [9, 2, 7])
    }

    func testAPassNeverSendsTheSameChunkTwiceForOneRequest() {
        var pass = open(at: 0, [5, 3, 9, 3, 1])
        XCTAssertEqual(pass.count, 4)
        XCTAssertEqual(drain(&pass), [1, 3, 5, 9])
    }
}
