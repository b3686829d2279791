import XCTest
import Zstd

/// Compression on libzstd's worker threads (ZSTD_c_nbWorkers).
final class MultithreadTests: XCTestCase {
    func testMultithreadedCompressionRoundTripsAndWritesValidFrames() throws {
        guard Zstd.supportsMultithreading else {
            XCTAssertThrowsError(try Zstd.compress([1, 2, 3], workers: 2)) { error in
                XCTAssertEqual(error as? ZstdError, .multithreadingUnsupported(workers: 2))
            }
            return
        }
        // Large enough for several jobs (a job is several windows at level 1).
        let data = TestData.compressible(12 << 20, seed: 20)
        for workers in [1, 2, 4] {
            let frame = try Zstd.compress(data, level: 1, workers: workers)
            XCTAssertEqual(Zstd.declaredContentSize(frame), UInt64(data.count), "workers \(workers)")
            XCTAssertEqual(try Zstd.decompress(frame, maxOutputBytes: data.count), data, "workers \(workers)")
        }
    }

    func testMultithreadedStreamingRoundTrips() throws {
        try XCTSkipUnless(Zstd.supportsMultithreading, "libzstd built without ZSTD_MULTITHREAD")
        let data = TestData.compressible(6 << 20, seed: 21)
        let compressor = try ZstdCompressor(level: 3, workers: 2)
        var frame: [UInt8] = []
        var offset = 0
        while offset < data.count {
            let end = min(data.count, offset + 300_001)
            frame += try data[offset..<end].withUnsafeBytes { try compressor.feed($0) }
            offset = end
        }
        frame += try compressor.finish()
        XCTAssertEqual(compressor.bytesIn, data.count)
        XCTAssertEqual(compressor.bytesOut, frame.count)
        XCTAssertEqual(try Zstd.decompress(frame, maxOutputBytes: data.count), data)
    }

    func testWorkerCountIsValidated() {
        XCTAssertThrowsError(try Zstd.compress([1], workers: -1)) { error in
            guard case .invalidParameter(let name, -1, _)? = error as? ZstdError else {
                return XCTFail("expected invalidParameter, got \(error)")
            }
            XCTAssertEqual(name, "workers")
        }
        XCTAssertThrowsError(try ZstdCompressor(workers: 100_000)) { error in
            guard let error = error as? ZstdError else { return XCTFail("\(error)") }
            switch error {
            case .invalidParameter(name: "workers", value: 100_000, _), .multithreadingUnsupported(workers: 100_000): break
            default: XCTFail("expected a workers error, got \(error)")
            }
        }
    }
}
