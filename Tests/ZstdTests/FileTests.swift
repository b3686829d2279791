import Foundation
import TestSupport
import XCTest
import Zstd

/// File → file helpers: bounded memory, atomic output, errors naming the file.
final class FileTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("zstd-tests") }
    override func tearDownWithError() throws { if let directory { try? FileManager.default.removeItem(at: directory) } }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Writes `count` bytes of int8-like data to `path` in 1 MiB pieces, never holding it whole.
    func writeLargeFile(_ path: String, count: Int) throws {
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        defer { try? handle.close() }
        var written = 0
        var seed: UInt64 = 100
        while written < count {
            let piece = TestData.compressible(min(1 << 20, count - written), seed: seed)
            try handle.write(contentsOf: piece)
            written += piece.count
            seed += 1
        }
    }

    /// Compares two files a piece at a time.
    func assertSameContents(_ a: String, _ b: String) throws {
        let ha = try XCTUnwrap(FileHandle(forReadingAtPath: a)), hb = try XCTUnwrap(FileHandle(forReadingAtPath: b))
        defer {
            try? ha.close()
            try? hb.close()
        }
        var offset = 0
        while true {
            let da = try ha.read(upToCount: 4 << 20) ?? Data(), db = try hb.read(upToCount: 4 << 20) ?? Data()
            XCTAssertEqual(da, db, "files differ in the 4 MiB piece at offset \(offset)")
            if da.isEmpty || da != db { return }
            offset += da.count
        }
    }

    func testHundredMegabyteFileStreamsWithBoundedMemory() throws {
        let size = 100 << 20
        try writeLargeFile(path("big"), count: size)
        guard ProcessMemory.resetPeak(), let start = ProcessMemory.statusField("VmRSS") else {
            throw XCTSkip("/proc/self/clear_refs is not writable here: cannot measure peak memory")
        }
        let compressed = try Zstd.compressFile(at: path("big"), to: path("big.zst"), level: 1)
        let compressPeak = (ProcessMemory.statusField("VmHWM") ?? Int.max) - start

        XCTAssertTrue(ProcessMemory.resetPeak())
        let start2 = ProcessMemory.statusField("VmRSS") ?? 0
        let decompressed = try Zstd.decompressFile(at: path("big.zst"), to: path("big.out"), maxOutputBytes: size)
        let decompressPeak = (ProcessMemory.statusField("VmHWM") ?? Int.max) - start2

        XCTAssertEqual(compressed.bytesRead, size)
        XCTAssertEqual(decompressed.bytesRead, compressed.bytesWritten)
        XCTAssertEqual(decompressed.bytesWritten, size)
        let onDisk = try FileManager.default.attributesOfItem(atPath: path("big.zst"))[.size] as? Int
        XCTAssertEqual(onDisk, compressed.bytesWritten)
        XCTAssertLessThan(compressed.bytesWritten, size / 2)
        try assertSameContents(path("big"), path("big.out"))

        // A whole-file read would add ≥ 100 MiB; the helpers hold a 1 MiB read buffer, one
        // output block and libzstd's context (a few MiB at level 1, window 2^19–2^21).
        // Control: the same probe around a whole-file read must see it, or it proves nothing.
        XCTAssertTrue(ProcessMemory.resetPeak())
        let start3 = ProcessMemory.statusField("VmRSS") ?? 0
        let whole = try Data(contentsOf: URL(fileURLWithPath: path("big")))
        let wholePeak = (ProcessMemory.statusField("VmHWM") ?? 0) - start3
        XCTAssertEqual(whole.count, size)
        XCTAssertGreaterThan(wholePeak, 90 << 20, "the probe must catch a whole-file read")

        XCTAssertLessThan(compressPeak, 16 << 20, "compression peak RSS grew by \(compressPeak) bytes")
        XCTAssertLessThan(decompressPeak, 16 << 20, "decompression peak RSS grew by \(decompressPeak) bytes")
        print(
            "100 MiB file: compressed to \(compressed.bytesWritten) B; peak RSS growth \(compressPeak >> 10) KiB compressing, \(decompressPeak >> 10) KiB decompressing, \(wholePeak >> 10) KiB for a whole-file read (control)"
        )
    }

    func testDecompressFileStopsAtTheCapAndLeavesNoPartialOutput() throws {
        try Data(OutputLimitTests.bomb).write(to: URL(fileURLWithPath: path("bomb.zst")))
        try Data("previous".utf8).write(to: URL(fileURLWithPath: path("out")))
        XCTAssertThrowsError(try Zstd.decompressFile(at: path("bomb.zst"), to: path("out"), maxOutputBytes: 10 << 20)) { error in
            XCTAssertEqual(error as? ZstdError, .outputLimitExceeded(limit: 10 << 20, declaredSize: nil))
        }
        XCTAssertEqual(try String(contentsOfFile: path("out"), encoding: .utf8), "previous", "destination untouched")
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(), ["bomb.zst", "out"], "no partial file left")
    }

    func testCorruptFileIsReportedAndSmallBuffersWork() throws {
        let data = TestData.random(300_000, seed: 101)
        try Data(data).write(to: URL(fileURLWithPath: path("plain")))
        // A 7-byte read buffer exercises every boundary; the result is the same file.
        try Zstd.compressFile(at: path("plain"), to: path("plain.zst"), bufferSize: 4093)
        var observed: [UInt8] = []
        let stats = try Zstd.decompressFile(at: path("plain.zst"), to: path("plain.out"), maxOutputBytes: data.count, bufferSize: 7) {
            observed += $0
        }
        try assertSameContents(path("plain"), path("plain.out"))
        XCTAssertEqual(observed, data, "the observer sees every written byte, in order")
        XCTAssertEqual(stats.bytesWritten, data.count)

        var frame = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path("plain.zst"))))
        frame[frame.count / 2] ^= 0x80
        try Data(frame).write(to: URL(fileURLWithPath: path("bad.zst")))
        XCTAssertThrowsError(try Zstd.decompressFile(at: path("bad.zst"), to: path("bad.out"), maxOutputBytes: data.count)) { error in
            XCTAssertEqual(error as? ZstdError, .checksumMismatch(frameOffset: 0))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("bad.out")))

        try Data(frame.prefix(1000)).write(to: URL(fileURLWithPath: path("short.zst")))
        XCTAssertThrowsError(try Zstd.decompressFile(at: path("short.zst"), to: path("short.out"), maxOutputBytes: data.count)) { error in
            XCTAssertEqual(error as? ZstdError, .truncatedInput(compressedBytes: 1000))
        }
    }

    func testMissingFilesAreNamed() throws {
        let missing = path("does-not-exist")
        XCTAssertThrowsError(try Zstd.compressFile(at: missing, to: path("x.zst"))) { error in
            XCTAssertEqual(error as? ZstdError, .fileOperationFailed(path: missing, operation: "open for reading", errno: 2))
        }
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path("small")))
        let badDestination = path("no-such-dir/out.zst")
        XCTAssertThrowsError(try Zstd.compressFile(at: path("small"), to: badDestination)) { error in
            guard case .fileOperationFailed(let failed, "create", 2)? = error as? ZstdError else { return XCTFail("got \(error)") }
            XCTAssertTrue(failed.hasPrefix(badDestination), failed)
        }
    }

    func testMultithreadedFileCompression() throws {
        try XCTSkipUnless(Zstd.supportsMultithreading)
        try writeLargeFile(path("mid"), count: 8 << 20)
        let stats = try Zstd.compressFile(at: path("mid"), to: path("mid.zst"), level: 3, workers: 2)
        XCTAssertEqual(stats.bytesRead, 8 << 20)
        let frame = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path("mid.zst"))))
        XCTAssertEqual(Zstd.declaredContentSize(frame), UInt64(8 << 20), "pledged file size is in the frame")
        try Zstd.decompressFile(at: path("mid.zst"), to: path("mid.out"), maxOutputBytes: 8 << 20)
        try assertSameContents(path("mid"), path("mid.out"))
    }
}
