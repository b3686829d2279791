import XCTest
import Zstd

/// One-shot compress → decompress over sizes, data kinds and levels.
final class RoundTripTests: XCTestCase {
    func testRoundTripsSizesAndKinds() throws {
        for size in [0, 1, 2, 100, 131_072, 131_073, 1 << 20] {
            for (kind, data) in [("random", TestData.random(size, seed: 1)), ("compressible", TestData.compressible(size, seed: 2))] {
                let frame = try Zstd.compress(data)
                XCTAssertEqual(Array(frame.prefix(4)), [0x28, 0xb5, 0x2f, 0xfd], "\(kind) \(size): zstd magic")
                XCTAssertEqual(Zstd.declaredContentSize(frame), UInt64(size), "\(kind) \(size): content size in frame")
                let back = try Zstd.decompress(frame, maxOutputBytes: size)
                XCTAssertEqual(back, data, "\(kind) \(size) round trip")
            }
        }
    }

    func testCompressibleDataShrinksAndRandomDataBarelyGrows() throws {
        let size = 1 << 20
        let compressed = try Zstd.compress(TestData.compressible(size, seed: 3))
        XCTAssertLessThan(compressed.count, size / 2, "3-bit values should compress at least 2×")
        let random = try Zstd.compress(TestData.random(size, seed: 4))
        // Raw blocks: 3-byte block headers every 128 KiB, the frame header and the checksum.
        XCTAssertLessThanOrEqual(random.count, size + 64)
    }

    func testEveryLevelRoundTripsAndHigherLevelsAreNotWorse() throws {
        let data = TestData.compressible(256 * 1024, seed: 5)
        var sizes: [Int: Int] = [:]
        for level in 1...19 {
            let frame = try Zstd.compress(data, level: level)
            XCTAssertEqual(try Zstd.decompress(frame, maxOutputBytes: data.count), data, "level \(level)")
            sizes[level] = frame.count
        }
        let one = try XCTUnwrap(sizes[1]), nineteen = try XCTUnwrap(sizes[19])
        XCTAssertLessThanOrEqual(nineteen, one, "level 19 (\(nineteen) B) should not lose to level 1 (\(one) B)")
        // Negative (fast) levels are accepted too.
        let fast = try Zstd.compress(data, level: -5)
        XCTAssertEqual(try Zstd.decompress(fast, maxOutputBytes: data.count), data)
    }

    func testFramesCarryAChecksum() throws {
        // Frame header descriptor: bit 2 is the content-checksum flag.
        let frame = try Zstd.compress(TestData.compressible(1000, seed: 6))
        XCTAssertEqual(frame[4] & 0x04, 0x04, "checksum flag must be set")
    }

    func testConcatenatedFramesDecompressToTheConcatenation() throws {
        let parts: [[UInt8]] = [TestData.random(5000, seed: 7), [], TestData.compressible(70_000, seed: 8), [0x42]]
        var stream: [UInt8] = []
        for part in parts { stream += try Zstd.compress(part) }
        // A skippable frame (magic 0x184D2A50, little-endian length, payload) is ignored, as by zstd -d.
        stream += [0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]
        stream += try Zstd.compress([1, 2, 3])
        let expected: [UInt8] = parts.reduce([], +) + [1, 2, 3]
        XCTAssertEqual(Zstd.declaredContentSize(stream), UInt64(expected.count))
        XCTAssertEqual(try Zstd.decompress(stream, maxOutputBytes: expected.count), expected)
    }

    func testUnsafeBufferEntryPointsMatchArrayOnes() throws {
        let data = TestData.compressible(10_000, seed: 9)
        let viaPointer = try data.withUnsafeBytes { try Zstd.compress($0, level: 7) }
        XCTAssertEqual(viaPointer, try Zstd.compress(data, level: 7), "compression is deterministic")
        let back = try viaPointer.withUnsafeBytes { try Zstd.decompress($0, maxOutputBytes: 10_000) }
        XCTAssertEqual(back, data)
    }

    func testLibraryFacts() {
        XCTAssertTrue(Zstd.libraryVersion.hasPrefix("1."), Zstd.libraryVersion)
        XCTAssertTrue(Zstd.levelRange.contains(19))
        XCTAssertTrue(Zstd.levelRange.contains(Zstd.defaultLevel))
    }
}
