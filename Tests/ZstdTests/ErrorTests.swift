import TestSupport
import XCTest
import Zstd

/// Damaged, foreign and misused input each give their own typed error.
final class ErrorTests: XCTestCase {
    func zstdError<T>(_ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> ZstdError? {
        do {
            _ = try body()
            XCTFail("expected a ZstdError, got success", file: file, line: line)
            return nil
        } catch let error as ZstdError {
            // Every message names the problem and says what to do; keep them non-trivial.
            XCTAssertGreaterThan(error.description.count, 40, file: file, line: line)
            return error
        } catch {
            XCTFail("expected a ZstdError, got \(error)", file: file, line: line)
            return nil
        }
    }

    func testTruncatedInputIsReportedAtFinish() throws {
        let data = TestData.compressible(300_000, seed: 40)
        let frame = try Zstd.compress(data)
        for cut in [1, 3, 4, 10, frame.count / 2, frame.count - 4, frame.count - 1] {
            let prefix = Array(frame.prefix(cut))
            let error = zstdError { try Zstd.decompress(prefix, maxOutputBytes: data.count) }
            XCTAssertEqual(error, .truncatedInput(compressedBytes: cut), "cut at \(cut)")
        }
        XCTAssertEqual(zstdError { try Zstd.decompress([], maxOutputBytes: 10) }, .truncatedInput(compressedBytes: 0))

        // Streaming: the prefix is accepted as it arrives; only finish() can tell it ended early.
        let decompressor = try ZstdDecompressor(maxOutputBytes: data.count)
        let partial = try decompressor.feed(Array(frame.prefix(frame.count / 2)))
        XCTAssertEqual(partial, Array(data.prefix(partial.count)), "what was decoded so far is correct")
        XCTAssertEqual(zstdError { try decompressor.finish() }, .truncatedInput(compressedBytes: frame.count / 2))

        // A complete frame followed by the start of another is truncated too.
        let twoFrames = frame + frame.prefix(7)
        XCTAssertEqual(
            zstdError { try Zstd.decompress(twoFrames, maxOutputBytes: 2 * data.count) },
            .truncatedInput(compressedBytes: twoFrames.count))
    }

    func testFlippedBitInStoredDataOrChecksumIsAChecksumMismatch() throws {
        // Random data is stored in raw blocks, so flipping a payload bit decodes "fine" and only
        // the XXH64 checksum can catch it.
        let data = TestData.random(10_000, seed: 41)
        let frame = try Zstd.compress(data)
        for index in [frame.count / 2, frame.count - 1] {
            var damaged = frame
            damaged[index] ^= 0x10
            XCTAssertEqual(
                zstdError { try Zstd.decompress(damaged, maxOutputBytes: data.count) },
                .checksumMismatch(frameOffset: 0), "bit flipped at \(index)")
        }
        // In a second frame the offset names that frame.
        let first = try Zstd.compress([7, 7, 7])
        var pair = first + frame
        pair[pair.count - 2] ^= 1
        XCTAssertEqual(
            zstdError { try Zstd.decompress(pair, maxOutputBytes: 20_000) },
            .checksumMismatch(frameOffset: first.count))
    }

    func testFlippedBitsInCompressedDataNeverPass() throws {
        let data = TestData.compressible(100_000, seed: 42)
        let frame = try Zstd.compress(data)
        var generator = SplitMix64(seed: 43)
        var kinds: Set<String> = []
        for _ in 0..<50 {
            var damaged = frame
            // Skip the frame header (up to 18 bytes): damage there can legitimately become
            // "not zstd" or a size mismatch, covered elsewhere.
            let index = 18 + Int(generator.next() % UInt64(frame.count - 18))
            damaged[index] ^= UInt8(1 << (generator.next() % 8))
            guard let error = zstdError({ try Zstd.decompress(damaged, maxOutputBytes: data.count) }) else { continue }
            switch error {
            case .checksumMismatch(0): kinds.insert("checksum")
            case .corruptedInput(0, _): kinds.insert("corrupted")
            case .truncatedInput: kinds.insert("truncated")  // a flipped block size can swallow the end
            case .outputLimitExceeded: kinds.insert("limit")  // or announce more data than there is
            default: XCTFail("unexpected \(error)")
            }
        }
        XCTAssertTrue(kinds.contains("corrupted") || kinds.contains("checksum"), "\(kinds)")
    }

    func testForeignInputIsNotZstdData() throws {
        let gzip: [UInt8] = [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ]
        let error = zstdError { try Zstd.decompress(gzip, maxOutputBytes: 100) }
        XCTAssertEqual(error, .notZstdData(frameOffset: 0, magic: [0x1f, 0x8b, 0x08, 0x00]))
        XCTAssertTrue(error?.description.contains("not zstd data (magic 1f 8b 08 00") ?? false, error?.description ?? "")
        XCTAssertTrue(error?.description.contains("gzip") ?? false)

        let random = TestData.random(1000, seed: 44)
        XCTAssertEqual(
            zstdError { try Zstd.decompress(random, maxOutputBytes: 100) },
            .notZstdData(frameOffset: 0, magic: Array(random.prefix(4))))

        // Garbage after valid frames: the offset says where the good data stopped.
        let good = try Zstd.compress(TestData.compressible(5000, seed: 45))
        XCTAssertEqual(
            zstdError { try Zstd.decompress(good + Array("hello world".utf8), maxOutputBytes: 10_000) },
            .notZstdData(frameOffset: good.count, magic: Array("hell".utf8)))

        // Streamed a byte at a time, the error still comes, at the same place.
        let decompressor = try ZstdDecompressor(maxOutputBytes: 100)
        let streamed = zstdError {
            for byte in gzip { _ = try decompressor.feed([byte]) }
            try decompressor.finish()
        }
        guard case .notZstdData(0, let magic)? = streamed else { return XCTFail("got \(String(describing: streamed))") }
        XCTAssertEqual(magic.first, 0x1f)
    }

    func testFrameNeedingAHugeWindowIsRefusedUnderALowWindowLimit() throws {
        // Level 3 on 4 MiB uses a 2 MiB window (or a 4 MiB single segment); a decoder limited
        // to 2^18 refuses it, one with the default limit accepts it.
        let data = TestData.compressible(4 << 20, seed: 46)
        let frame = try Zstd.compress(data, level: 3)
        let decompressor = try ZstdDecompressor(maxOutputBytes: data.count, maxWindowLog: 18)
        XCTAssertEqual(zstdError { try decompressor.feed(frame) }, .windowTooLarge(frameOffset: 0, maxWindowLog: 18))
        XCTAssertEqual(try ZstdDecompressor(maxOutputBytes: data.count).feed(frame), data)
    }

    func testInvalidParametersAreRejectedUpFront() {
        XCTAssertEqual(
            zstdError { try Zstd.compress([1], level: 23) },
            .invalidParameter(name: "level", value: 23, allowed: Zstd.levelRange))
        XCTAssertEqual(
            zstdError { try Zstd.decompress([1], maxOutputBytes: -1) },
            .invalidParameter(name: "maxOutputBytes", value: -1, allowed: 0...Int.max))
        XCTAssertEqual(
            zstdError { try ZstdCompressor(pledgedInputSize: -5) },
            .invalidParameter(name: "pledgedInputSize", value: -5, allowed: 0...Int.max))
        guard case .invalidParameter("maxWindowLog", 99, _)? = zstdError({ try ZstdDecompressor(maxOutputBytes: 1, maxWindowLog: 99) })
        else {
            return XCTFail("maxWindowLog 99 must be rejected")
        }
        XCTAssertEqual(
            zstdError { try Zstd.compressFile(at: "/nonexistent", to: "/tmp/x", bufferSize: 0) },
            .invalidParameter(name: "bufferSize", value: 0, allowed: 1...(1 << 30)))
    }

    func testMessagesNameTheProblemAndTheRemedy() {
        let cases: [(ZstdError, [String])] = [
            (.truncatedInput(compressedBytes: 12), ["truncated", "12", "again"]),
            (.checksumMismatch(frameOffset: 99), ["checksum", "99", "fetch it again"]),
            (.notZstdData(frameOffset: 0, magic: [0x50, 0x4b, 0x03, 0x04]), ["not zstd data (magic 50 4b 03 04", "zip"]),
            (.outputLimitExceeded(limit: 1000, declaredSize: 5000), ["1000", "5000", "maxOutputBytes"]),
            (.multithreadingUnsupported(workers: 3), ["ZSTD_MULTITHREAD", "workers = 0"]),
            (.fileOperationFailed(path: "/a/b", operation: "read", errno: 2), ["/a/b", "No such file", "errno 2"]),
        ]
        for (error, fragments) in cases {
            for fragment in fragments {
                XCTAssertTrue(error.description.contains(fragment), "'\(fragment)' missing from: \(error.description)")
            }
        }
    }
}
