import TestSupport
import XCTest
import Zstd

/// Decompression bombs stop at the cap, without allocating past it.
final class OutputLimitTests: XCTestCase {
    /// 1 GiB of zeros in one frame without a declared size (~32 KiB: one RLE block per 128 KiB).
    static let bomb: [UInt8] = {
        guard let compressor = try? ZstdCompressor(level: 1) else { return [] }
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var frame: [UInt8] = []
        for _ in 0..<1024 { frame += (try? compressor.feed(zeros)) ?? [] }
        frame += (try? compressor.finish()) ?? []
        return frame
    }()

    func testBombIsSmall() {
        XCTAssertGreaterThan(Self.bomb.count, 1000)
        XCTAssertLessThan(Self.bomb.count, 64 * 1024, "1 GiB of zeros should compress to ~32 KiB")
        XCTAssertNil(Zstd.declaredContentSize(Self.bomb), "streamed without a pledge: no size in the header")
    }

    func testOneShotStopsAtTheCapWithoutAllocatingPastIt() throws {
        let cap = 16 << 20
        let peakReset = ProcessMemory.resetPeak()
        let before = ProcessMemory.statusField("VmRSS") ?? 0
        XCTAssertThrowsError(try Zstd.decompress(Self.bomb, maxOutputBytes: cap)) { error in
            XCTAssertEqual(error as? ZstdError, .outputLimitExceeded(limit: cap, declaredSize: nil))
        }
        if peakReset, let peak = ProcessMemory.statusField("VmHWM") {
            // The result array may reach the cap (16 MiB) plus the decoder's window; the
            // full expansion would be 1 GiB.
            XCTAssertLessThan(peak - before, 48 << 20, "peak RSS grew by \(peak - before) bytes")
        }
    }

    func testStreamingHandsOutNothingPastTheCap() throws {
        for cap in [0, 1, 1000, 131_072, 5_000_000] {
            let decompressor = try ZstdDecompressor(maxOutputBytes: cap)
            var handedOut = 0
            var nonZero = false
            XCTAssertThrowsError(
                try Self.bomb.withUnsafeBytes { bytes in
                    try decompressor.feed(bytes) { piece in
                        handedOut += piece.count
                        nonZero = nonZero || piece.contains { $0 != 0 }
                    }
                }
            ) { error in
                XCTAssertEqual(error as? ZstdError, .outputLimitExceeded(limit: cap, declaredSize: nil), "cap \(cap)")
            }
            // Nothing past the cap is handed out; the block that would cross it is withheld.
            XCTAssertLessThanOrEqual(handedOut, cap, "cap \(cap)")
            XCTAssertGreaterThan(handedOut, cap - 128 * 1024 - 1, "cap \(cap): decoding ran up to the cap")
            XCTAssertEqual(decompressor.bytesOut, handedOut)
            XCTAssertFalse(nonZero)
            XCTAssertLessThan(decompressor.bytesIn, Self.bomb.count, "stopped early, not at the end of the input")
        }
    }

    func testDeclaredSizeOverTheCapFailsBeforeDecoding() throws {
        let frame = try Zstd.compress([UInt8](repeating: 0, count: 64 << 20))
        XCTAssertEqual(Zstd.declaredContentSize(frame), UInt64(64 << 20))
        XCTAssertThrowsError(try Zstd.decompress(frame, maxOutputBytes: 1 << 20)) { error in
            XCTAssertEqual(error as? ZstdError, .outputLimitExceeded(limit: 1 << 20, declaredSize: UInt64(64 << 20)))
        }
    }

    func testALyingDeclaredSizeIsNotTrusted() throws {
        // Patch the header of a 1-byte frame to declare 255 bytes: decoding must not believe it.
        var frame = try Zstd.compress([42])
        // Single-segment frame with a 1-byte content size field right after the descriptor.
        XCTAssertEqual(frame[4] & 0xE0, 0x20, "expected a single-segment, 1-byte size header")
        frame[5] = 255
        XCTAssertEqual(Zstd.declaredContentSize(frame), 255)
        XCTAssertThrowsError(try Zstd.decompress(frame, maxOutputBytes: 1000)) { error in
            guard case .corruptedInput(0, _)? = error as? ZstdError else { return XCTFail("got \(error)") }
        }
    }

    func testCapExactlyAtTheSizeSucceedsAndOneLessFails() throws {
        let data = TestData.compressible(300_000, seed: 50)
        // Streamed (no declared size), so the decoder itself must count.
        let compressor = try ZstdCompressor()
        let frame = try compressor.feed(data) + compressor.finish()
        XCTAssertEqual(try Zstd.decompress(frame, maxOutputBytes: data.count), data)
        XCTAssertThrowsError(try Zstd.decompress(frame, maxOutputBytes: data.count - 1)) { error in
            XCTAssertEqual(error as? ZstdError, .outputLimitExceeded(limit: data.count - 1, declaredSize: nil))
        }
    }
}
