import Foundation
import TestSupport
import XCTest
import Zstd

/// Our frames against the real `zstd` tool, both ways.
final class CLIInteropTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        _ = try ZstdCLI.require()
        directory = try makeTemporaryDirectory("zstd-tests")
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func testCLIFramesDecompressWithUs() throws {
        let data = TestData.compressible(700_000, seed: 60) + TestData.random(50_000, seed: 61)
        try Data(data).write(to: URL(fileURLWithPath: path("in")))
        for options in [["-1"], ["-19"], ["-3", "--no-check"], ["-3", "-T2"], ["--ultra", "-22"], ["--long=24", "-3"]] {
            let result = try ZstdCLI.run(options + ["-q", "-f", path("in"), "-o", path("in.zst")])
            XCTAssertEqual(result.status, 0, result.stderr)
            let frame = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path("in.zst"))))
            XCTAssertEqual(try Zstd.decompress(frame, maxOutputBytes: data.count), data, "zstd \(options)")
        }
        // The CLI's output of a pipe has no content size; ours copes all the same.
        let piped = try ZstdCLI.run(["-q", "-f", "--no-content-size", path("in"), "-o", path("nosize.zst")])
        XCTAssertEqual(piped.status, 0, piped.stderr)
        let frame = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path("nosize.zst"))))
        XCTAssertNil(Zstd.declaredContentSize(frame))
        XCTAssertEqual(try Zstd.decompress(frame, maxOutputBytes: data.count), data)
    }

    func testOurFramesDecompressWithTheCLI() throws {
        let data = TestData.compressible(900_000, seed: 62)
        var frames: [(String, [UInt8])] = [
            ("level 1", try Zstd.compress(data, level: 1)),
            ("level 19", try Zstd.compress(data, level: 19)),
            ("empty", try Zstd.compress([])),
        ]
        if Zstd.supportsMultithreading { frames.append(("2 workers", try Zstd.compress(data, workers: 2))) }
        let streamed = try ZstdCompressor(level: 4)
        frames.append(("streamed", try streamed.feed(data) + streamed.finish()))
        for (name, frame) in frames {
            try Data(frame).write(to: URL(fileURLWithPath: path("ours.zst")))
            // `zstd -t` verifies the frame, checksum included.
            let test = try ZstdCLI.run(["-t", "-q", path("ours.zst")])
            XCTAssertEqual(test.status, 0, "\(name): \(test.stderr)")
            let result = try ZstdCLI.run(["-d", "-q", "-f", path("ours.zst"), "-o", path("ours.out")])
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            let back = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path("ours.out"))))
            XCTAssertEqual(back, name == "empty" ? [] : data, name)
        }
    }

    func testTheCLIReportsOurChecksumWhenTheDataIsDamaged() throws {
        // Proves the checksum we write is one the CLI verifies, not a flag bit alone.
        var frame = try Zstd.compress(TestData.random(5000, seed: 63))
        frame[frame.count - 100] ^= 0x01
        try Data(frame).write(to: URL(fileURLWithPath: path("bad.zst")))
        let result = try ZstdCLI.run(["-t", "-q", path("bad.zst")])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.lowercased().contains("checksum"), result.stderr)
    }

    func testFileHelpersInteroperateWithTheCLI() throws {
        let data = TestData.compressible(2_000_000, seed: 64)
        try Data(data).write(to: URL(fileURLWithPath: path("plain")))
        try Zstd.compressFile(at: path("plain"), to: path("ours.zst"), level: 6)
        XCTAssertEqual(try ZstdCLI.run(["-d", "-q", "-f", path("ours.zst"), "-o", path("cli.out")]).status, 0)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("cli.out"))), Data(data))

        XCTAssertEqual(try ZstdCLI.run(["-q", "-f", "-T2", path("plain"), "-o", path("cli.zst")]).status, 0)
        let stats = try Zstd.decompressFile(at: path("cli.zst"), to: path("ours.out"), maxOutputBytes: data.count)
        XCTAssertEqual(stats.bytesWritten, data.count)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path("ours.out"))), Data(data))
    }
}
