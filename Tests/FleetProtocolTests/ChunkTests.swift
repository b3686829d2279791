import FleetProtocol
import Foundation
import TestSupport
import XCTest

final class ChunkTests: XCTestCase {
    func plan(_ size: Int, chunk: Int = 1024) throws -> ChunkPlan {
        try ChunkPlan(artifactDigest: digestA, totalSize: size, chunkSize: chunk)
    }

    func testPlanArithmetic() throws {
        let p = try plan(10_000)
        XCTAssertEqual(p.chunkCount, 10)
        XCTAssertEqual(p.length(of: 9), 10_000 - 9 * 1024)
        XCTAssertEqual(try plan(2048).chunkCount, 2)
        XCTAssertEqual(try ChunkPlan(artifactDigest: digestA, totalSize: 1).chunkSize, 256 * 1024)
        XCTAssertThrowsError(try plan(0))
        XCTAssertThrowsError(try plan(10, chunk: 10))
        XCTAssertThrowsError(try ChunkPlan(artifactDigest: "zz", totalSize: 10, chunkSize: 1024))
    }

    func testFramesRoundTripAndCarryTheirDigest() throws {
        let bytes = randomBytes(5000, seed: 4)
        let p = try plan(bytes.count)
        let frames = try Chunker.frames(of: bytes, plan: p)
        XCTAssertEqual(frames.count, 5)
        for frame in frames {
            let encoded = frame.encoded
            XCTAssertEqual(encoded.count, ChunkHeader.encodedSize + frame.payload.count)
            XCTAssertEqual(Array(encoded[0..<4]), Array("FLCK".utf8))
            XCTAssertEqual(try ChunkFrame.decode(encoded), frame)
        }
        XCTAssertEqual(frames.flatMap(\.payload), bytes)
        XCTAssertEqual(frames[4].header.count, 5)
        XCTAssertEqual(frames[4].header.payloadLength, 5000 - 4096)
    }

    func testCorruptedPayloadIsATypedDigestError() throws {
        let p = try plan(3000)
        var encoded = try Chunker.frames(of: randomBytes(3000, seed: 5), plan: p)[1].encoded
        encoded[ChunkHeader.encodedSize + 17] ^= 0x40
        XCTAssertThrowsError(try ChunkFrame.decode(encoded)) { error in
            guard case .chunkDigestMismatch(let index, _, _) = error as? ChunkError else { return XCTFail("\(error)") }
            XCTAssertEqual(index, 1)
        }
    }

    func testArbitraryBytesNeverCrashTheDecoder() throws {
        var rng = SplitMix64(seed: 6)
        let good = try Chunker.frames(of: randomBytes(2000, seed: 7), plan: try plan(2000))[0].encoded
        for i in 0..<2000 {
            var bytes = i % 2 == 0 ? randomBytes(Int.random(in: 0...200, using: &rng), seed: UInt64(i)) : good
            if i % 2 == 1 {
                bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
                if !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng) }
            }
            if let frame = try? ChunkFrame.decode(bytes) {
                XCTAssertEqual(frame.payload.count, frame.header.payloadLength)
            }
        }
        var wrongVersion = good
        wrongVersion[4] = 2
        XCTAssertThrowsError(try ChunkFrame.decode(wrongVersion)) { XCTAssertTrue("\($0)".contains("major version 2")) }
    }

    func testReassemblyInAnyOrderWithDuplicatesAndCorruption() throws {
        let bytes = randomBytes(50_000, seed: 8)
        let p = try plan(bytes.count)
        let sha = ChunkTestSupport.sha256(bytes)
        let path = temporaryPath("reassemble")
        defer { unlink(path) }
        let r = try ChunkReassembler(plan: p, expectedSHA256: sha, path: path, maxBytes: 1 << 20)
        var frames = try Chunker.frames(of: bytes, plan: p)
        var rng = SplitMix64(seed: 9)
        frames.shuffle(using: &rng)
        XCTAssertEqual(r.missingRanges, [ChunkRange(first: 0, count: p.chunkCount)])
        var corrupt = frames[0].encoded
        corrupt[corrupt.count - 1] ^= 1
        XCTAssertThrowsError(try r.accept(frameBytes: corrupt))
        for (i, frame) in frames.enumerated() {
            XCTAssertTrue(try r.accept(frameBytes: frame.encoded))
            if i % 7 == 0 { XCTAssertFalse(try r.accept(frame), "a duplicate is not new") }
        }
        XCTAssertTrue(r.isComplete)
        XCTAssertEqual(r.missingRanges, [])
        try r.finish()
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: path))), bytes)
    }

    func testResumeAfterRestartFromPersistedProgress() throws {
        let bytes = randomBytes(20_000, seed: 10)
        let p = try plan(bytes.count)
        let frames = try Chunker.frames(of: bytes, plan: p)
        let path = temporaryPath("resume")
        defer { unlink(path) }
        var persisted: Data
        do {
            let first = try ChunkReassembler(plan: p, expectedSHA256: ChunkTestSupport.sha256(bytes), path: path, maxBytes: 1 << 20)
            for i in [0, 1, 2, 5, 6, 19] { try first.accept(frames[i]) }
            persisted = try JSONEncoder().encode(try first.checkpoint())
            try first.accept(frames[7])  // written but never checkpointed: treated as missing
            first.close()
        }
        let progress = try JSONDecoder().decode(ChunkProgress.self, from: persisted)
        XCTAssertEqual(progress.have.setCount, 6)
        let second = try ChunkReassembler(
            plan: p, expectedSHA256: ChunkTestSupport.sha256(bytes), path: path, maxBytes: 1 << 20, resume: progress)
        XCTAssertEqual(second.missingRanges, [ChunkRange(first: 3, count: 2), ChunkRange(first: 7, count: 12)])
        for range in second.missingRanges {
            for i in range.first..<range.first + range.count { XCTAssertTrue(try second.accept(frames[i])) }
        }
        try second.finish()
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: path))), bytes)

        let otherPlan = try ChunkPlan(artifactDigest: digestB, totalSize: 20_000, chunkSize: 1024)
        XCTAssertThrowsError(try ChunkReassembler(plan: otherPlan, expectedSHA256: "", path: path, maxBytes: 1 << 20, resume: progress)) {
            guard case .progressMismatch = $0 as? ChunkError else { return XCTFail("\($0)") }
        }
    }

    func testWholeDigestMismatchResetsProgress() throws {
        let bytes = randomBytes(4096, seed: 12)
        let p = try plan(bytes.count)
        let path = temporaryPath("mismatch")
        defer { unlink(path) }
        let r = try ChunkReassembler(plan: p, expectedSHA256: digestB, path: path, maxBytes: 1 << 20)
        for f in try Chunker.frames(of: bytes, plan: p) { try r.accept(f) }
        XCTAssertThrowsError(try r.finish()) {
            guard case .artifactDigestMismatch = $0 as? ChunkError else { return XCTFail("\($0)") }
        }
        XCTAssertEqual(r.missingRanges, [ChunkRange(first: 0, count: 4)])
    }

    func testChunksOfAnotherDownloadAreRefused() throws {
        let p = try plan(4096)
        let path = temporaryPath("foreign")
        defer { unlink(path) }
        let r = try ChunkReassembler(plan: p, expectedSHA256: digestB, path: path, maxBytes: 1 << 20)
        let other = try ChunkPlan(artifactDigest: digestB, totalSize: 4096, chunkSize: 1024)
        XCTAssertThrowsError(try r.accept(ChunkFrame(plan: other, index: 0, payload: randomBytes(1024, seed: 1))))
        let bigger = try plan(8192)
        XCTAssertThrowsError(try r.accept(ChunkFrame(plan: bigger, index: 5, payload: randomBytes(1024, seed: 1))))
        XCTAssertThrowsError(try r.finish()) { XCTAssertEqual($0 as? ChunkError, .incomplete(missing: 4)) }
    }

    func testSizeCapAndFullDiskAreCleanErrors() throws {
        XCTAssertThrowsError(
            try ChunkReassembler(plan: try plan(10_000), expectedSHA256: digestB, path: temporaryPath("cap"), maxBytes: 9_999)
        ) {
            guard case .invalidPlan(let detail) = $0 as? ChunkError else { return XCTFail("\($0)") }
            XCTAssertTrue(detail.contains("cap"))
        }
        // /dev/full accepts opens and fails every write with ENOSPC.
        let p = try plan(4096)
        let r = try ChunkReassembler(plan: p, expectedSHA256: digestB, path: "/dev/full", maxBytes: 1 << 20)
        XCTAssertThrowsError(try r.accept(try Chunker.frames(of: randomBytes(4096, seed: 2), plan: p)[2])) {
            XCTAssertEqual($0 as? ChunkError, .diskFull(path: "/dev/full", neededBytes: 4096))
        }
        XCTAssertEqual(r.missingRanges, [ChunkRange(first: 0, count: 4)])
    }

    func testChunkerReadsSingleChunksFromAFile() throws {
        let bytes = randomBytes(9000, seed: 13)
        let path = temporaryPath("source")
        defer { unlink(path) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let p = try plan(bytes.count)
        let all = try Chunker.frames(of: bytes, plan: p)
        for i in 0..<p.chunkCount { XCTAssertEqual(try Chunker.frame(fileAt: path, plan: p, index: i), all[i]) }
        XCTAssertThrowsError(try Chunker.frame(fileAt: path, plan: p, index: p.chunkCount))
        XCTAssertThrowsError(try Chunker.frame(fileAt: path + ".missing", plan: p, index: 0))
    }

    func testBitmapCodableRejectsStrayBits() throws {
        var b = ChunkBitmap(count: 10)
        b.insert(3)
        b.insert(9)
        XCTAssertFalse(b.insert(9))
        XCTAssertFalse(b.insert(10))
        XCTAssertEqual(try JSONDecoder().decode(ChunkBitmap.self, from: try JSONEncoder().encode(b)), b)
        XCTAssertThrowsError(try JSONDecoder().decode(ChunkBitmap.self, from: Data(#"{"count":10,"bits":"AP8="}"#.utf8)))
        XCTAssertThrowsError(try JSONDecoder().decode(ChunkBitmap.self, from: Data(#"{"count":10,"bits":"AA=="}"#.utf8)))
    }

    /// A frame of a chunk already stored is dropped by its header alone (no payload hashing);
    /// the same corruption on a chunk still missing is refused; a synced bitmap is what
    /// `checkpoint()` returns, never chunks written after it.
    func testDuplicatesAreDroppedByHeaderAndCorruptNewChunksRefused() throws {
        let bytes = randomBytes(5000, seed: 3)
        let p = try plan(bytes.count)
        let frames = try Chunker.frames(of: bytes, plan: p)
        let path = temporaryPath("duplicates")
        defer { unlink(path) }
        let r = try ChunkReassembler(plan: p, expectedSHA256: ChunkTestSupport.sha256(bytes), path: path, maxBytes: 1 << 20)
        var corrupt1 = frames[1].encoded
        corrupt1[corrupt1.count - 1] ^= 0x5A
        XCTAssertThrowsError(try r.accept(frameBytes: corrupt1)) { error in
            guard case ChunkError.chunkDigestMismatch(let index, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(index, 1)
        }
        XCTAssertTrue(try r.accept(frameBytes: frames[1].encoded))
        XCTAssertFalse(try r.accept(frameBytes: corrupt1), "a chunk already stored: dropped, nothing written")
        XCTAssertEqual(r.synced.setCount, 0)
        let synced = try r.checkpoint()
        XCTAssertTrue(try r.accept(frameBytes: frames[2].encoded))
        XCTAssertEqual(synced.have.setCount, 1)
        XCTAssertEqual(r.synced, synced.have)
        XCTAssertEqual(r.have.setCount, 2)
        for f in frames { try r.accept(frameBytes: f.encoded) }
        try r.finish()
        XCTAssertEqual(Array(try Data(contentsOf: URL(fileURLWithPath: path))), bytes)
        XCTAssertTrue(r.synced.isComplete)
    }
}
