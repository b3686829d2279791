import FleetProtocol
import Foundation
import XCTest

/// Chunks that would write past the announced size (threat model: oversized artifacts). The
/// plan comes from the signed desired state; a frame is only ever checked against it.
final class ChunkBoundsTests: XCTestCase {
    func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? -1
    }

    func testFramesLongerThanThePlanOrPastItsEndAreRefusedAndNothingGrowsTheFile() throws {
        let plan = try ChunkPlan(artifactDigest: digestA, totalSize: 4000, chunkSize: 1024)
        let path = temporaryPath("bounds")
        defer { unlink(path) }
        let r = try ChunkReassembler(plan: plan, expectedSHA256: digestB, path: path, maxBytes: 1 << 20)
        let sizeBefore = fileSize(path)
        XCTAssertLessThanOrEqual(sizeBefore, 4000)
        // Self-consistent frames (their header's length and digest match their payload), each
        // lying about the artifact in one way.
        let longer = ChunkFrame(plan: plan, index: 1, payload: randomBytes(1025, seed: 1))
        let longLast = ChunkFrame(plan: plan, index: 3, payload: randomBytes(1024, seed: 2))  // the last is 928 bytes
        let bigger = try ChunkPlan(artifactDigest: digestA, totalSize: 1 << 30, chunkSize: 1 << 20)
        let pastTheEnd = ChunkFrame(plan: bigger, index: 1000, payload: randomBytes(16, seed: 3))
        for frame in [longer, longLast, pastTheEnd] {
            XCTAssertThrowsError(try r.accept(frame)) { error in
                guard case .doesNotFitPlan = error as? ChunkError else { return XCTFail("\(error)") }
            }
            XCTAssertThrowsError(try r.accept(frameBytes: frame.encoded))
        }
        XCTAssertEqual(r.have.setCount, 0)
        XCTAssertEqual(fileSize(path), sizeBefore, "no refused frame wrote a byte")
        // The genuine frames still fit exactly.
        let genuine = randomBytes(4000, seed: 9)
        for frame in try Chunker.frames(of: genuine, plan: plan) { XCTAssertTrue(try r.accept(frame)) }
        XCTAssertEqual(fileSize(path), 4000)
    }
}
