import XCTest
import Zstd

/// ZstdCompressor / ZstdDecompressor fed in chunks of awkward sizes.
final class StreamingTests: XCTestCase {
    /// Feeds `data` to a compressor in `chunk`-byte pieces.
    func streamCompress(_ data: [UInt8], chunk: Int, level: Int = 3, pledged: Int? = nil) throws -> [UInt8] {
        let compressor = try ZstdCompressor(level: level, pledgedInputSize: pledged)
        var out: [UInt8] = []
        var offset = 0
        while offset < data.count {
            let end = min(data.count, offset + chunk)
            out += try data[offset..<end].withUnsafeBytes { try compressor.feed($0) }
            offset = end
        }
        out += try compressor.finish()
        return out
    }

    /// Feeds `frame` to a decompressor in `chunk`-byte pieces.
    func streamDecompress(_ frame: [UInt8], chunk: Int, limit: Int) throws -> [UInt8] {
        let decompressor = try ZstdDecompressor(maxOutputBytes: limit)
        var out: [UInt8] = []
        var offset = 0
        while offset < frame.count {
            let end = min(frame.count, offset + chunk)
            out += try frame[offset..<end].withUnsafeBytes { try decompressor.feed($0) }
            offset = end
        }
        try decompressor.finish()
        XCTAssertEqual(decompressor.bytesIn, frame.count)
        XCTAssertEqual(decompressor.bytesOut, out.count)
        return out
    }

    func testOddChunkSizesRoundTripBothWays() throws {
        let data = TestData.compressible(200_000, seed: 30) + TestData.random(100_000, seed: 31)
        let reference = try Zstd.compress(data)
        for chunk in [1, 7, 65_536] {
            // One-byte compression of 300 KB is slow in debug builds; use a shorter prefix there.
            let input = chunk == 1 ? Array(data.prefix(20_000)) : data
            let streamed = try streamCompress(input, chunk: chunk)
            XCTAssertEqual(try Zstd.decompress(streamed, maxOutputBytes: input.count), input, "compress chunk \(chunk)")
            XCTAssertEqual(try streamDecompress(reference, chunk: chunk, limit: data.count), data, "decompress chunk \(chunk)")
        }
    }

    func testPledgedSizeIsWrittenAndEnforced() throws {
        let data = TestData.compressible(50_000, seed: 32)
        let frame = try streamCompress(data, chunk: 4096, pledged: data.count)
        XCTAssertEqual(Zstd.declaredContentSize(frame), UInt64(data.count))
        XCTAssertNil(Zstd.declaredContentSize(try streamCompress(data, chunk: 4096)), "no pledge, no size")

        XCTAssertThrowsError(try streamCompress(data, chunk: 4096, pledged: data.count + 1)) { error in
            guard case .inputSizeMismatch(let pledged, _)? = error as? ZstdError else {
                return XCTFail("expected inputSizeMismatch, got \(error)")
            }
            XCTAssertEqual(pledged, data.count + 1)
        }
        XCTAssertThrowsError(try streamCompress(data, chunk: 4096, pledged: 10)) { error in
            guard case .inputSizeMismatch(10, let received)? = error as? ZstdError else {
                return XCTFail("expected inputSizeMismatch, got \(error)")
            }
            XCTAssertGreaterThan(received, 10)
        }
    }

    func testSinkReceivesBoundedPiecesAndCanFail() throws {
        let data = TestData.compressible(3 << 20, seed: 33)
        let frame = try Zstd.compress(data)
        let decompressor = try ZstdDecompressor(maxOutputBytes: data.count)
        var largest = 0
        var collected: [UInt8] = []
        try frame.withUnsafeBytes { bytes in
            try decompressor.feed(bytes) { piece in
                largest = max(largest, piece.count)
                collected.append(contentsOf: piece)
            }
        }
        try decompressor.finish()
        XCTAssertEqual(collected, data)
        XCTAssertLessThanOrEqual(largest, 128 * 1024 + 3, "pieces are one block at most")

        struct DiskFull: Error {}
        let again = try ZstdDecompressor(maxOutputBytes: data.count)
        XCTAssertThrowsError(try frame.withUnsafeBytes { bytes in try again.feed(bytes) { _ in throw DiskFull() } }) { error in
            XCTAssertTrue(error is DiskFull, "the sink's own error comes through unchanged: \(error)")
        }
    }

    func testCompressorSinkAndMultipleFrames() throws {
        let compressor = try ZstdCompressor(level: 5)
        var stream: [UInt8] = []
        let first = TestData.compressible(40_000, seed: 34), second = TestData.random(3000, seed: 35)
        try first.withUnsafeBytes { bytes in try compressor.feed(bytes) { stream.append(contentsOf: $0) } }
        try compressor.finish { stream.append(contentsOf: $0) }
        // After finish the next feed starts a second frame.
        stream += try compressor.feed(second)
        stream += try compressor.finish()
        XCTAssertEqual(compressor.bytesIn, first.count + second.count)
        XCTAssertEqual(compressor.bytesOut, stream.count)
        XCTAssertEqual(try Zstd.decompress(stream, maxOutputBytes: 1 << 20), first + second)
    }

    func testDecompressorFinishesBetweenFramesAndResets() throws {
        let a = try Zstd.compress([1, 2, 3]), b = try Zstd.compress([4, 5])
        let decompressor = try ZstdDecompressor(maxOutputBytes: 5)
        XCTAssertEqual(try decompressor.feed(a), [1, 2, 3])
        try decompressor.finish()
        XCTAssertEqual(try decompressor.feed(b), [4, 5])
        try decompressor.finish()
        // The cap counts over the decoder's life: a third frame would exceed it...
        XCTAssertThrowsError(try decompressor.feed(a))
        // ...and the decoder stays poisoned until reset().
        XCTAssertThrowsError(try decompressor.feed(b))
        try decompressor.reset()
        XCTAssertEqual(try decompressor.feed(a), [1, 2, 3])
        XCTAssertEqual(decompressor.bytesOut, 3)
    }

    func testCloseIsIdempotentAndLaterUseThrows() throws {
        let compressor = try ZstdCompressor()
        compressor.close()
        compressor.close()
        XCTAssertThrowsError(try compressor.feed([1])) { error in
            XCTAssertEqual(error as? ZstdError, .closed("ZstdCompressor"))
        }
        let decompressor = try ZstdDecompressor(maxOutputBytes: 10)
        decompressor.close()
        decompressor.close()
        XCTAssertThrowsError(try decompressor.finish()) { error in
            XCTAssertEqual(error as? ZstdError, .closed("ZstdDecompressor"))
        }
        XCTAssertThrowsError(try decompressor.reset())
    }
}
