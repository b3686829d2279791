import Foundation
import TestSupport
import XCTest

@testable import ModelArtifact

/// The delivery form: zstd of the whole file, with sizes and digests of both forms.
final class TransportTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("artifact-tests") }
    override func tearDownWithError() throws { if let directory { try? FileManager.default.removeItem(at: directory) } }

    func testCompressDecompressRoundTripVerifiesBothForms() throws {
        let key = ArtifactSigningKey.generate()
        let bytes = try TestArtifacts.write(signingKey: key)
        let source = directory.appendingPathComponent("a.flta"), packed = directory.appendingPathComponent("a.flta.zst")
        let out = directory.appendingPathComponent("installed.flta")
        try Data(bytes).write(to: source)

        let digests = try ArtifactTransport.compress(fileAt: source, to: packed)
        XCTAssertEqual(digests.uncompressedSize, bytes.count)
        XCTAssertEqual(digests.uncompressedSHA256, Hex.string(SHA256Digest.of(bytes)))
        let (inMemory, memoryDigests) = try ArtifactTransport.compress(bytes)
        XCTAssertEqual(memoryDigests, digests, "file and buffer paths make the same frame")
        XCTAssertEqual(Array(try Data(contentsOf: packed)), inMemory)
        XCTAssertEqual(Array(inMemory.prefix(4)), [0x28, 0xB5, 0x2F, 0xFD])

        try ArtifactTransport.decompress(fileAt: packed, to: out, expected: digests, maxBytes: 1 << 20)
        XCTAssertEqual(Array(try Data(contentsOf: out)), bytes)
        XCTAssertEqual(try ArtifactReader.open(out, trust: .pinnedKeys([key.publicKey])).signingKeyID, key.keyID)
    }

    func testDamagedOrOversizedDownloadsNeverReachTheDestination() throws {
        let bytes = try TestArtifacts.write()
        let (compressed, digests) = try ArtifactTransport.compress(bytes)
        let packed = directory.appendingPathComponent("a.zst"), out = directory.appendingPathComponent("out.flta")

        var damaged = compressed
        damaged[damaged.count / 2] ^= 0x10
        try Data(damaged).write(to: packed)
        guard
            case .transportMismatch = artifactError({
                try ArtifactTransport.decompress(fileAt: packed, to: out, expected: digests, maxBytes: 1 << 20)
            })
        else {
            return XCTFail("a damaged download is refused before decompression")
        }
        try Data(compressed).write(to: packed)
        guard
            case .compressionFailed = artifactError({
                try ArtifactTransport.decompress(fileAt: packed, to: out, expected: digests, maxBytes: 100)
            })
        else {
            return XCTFail("the size cap stops decompression")
        }
        var lying = digests
        lying.uncompressedSHA256 = String(repeating: "0", count: 64)
        guard
            case .transportMismatch = artifactError({
                try ArtifactTransport.decompress(fileAt: packed, to: out, expected: lying, maxBytes: 1 << 20)
            })
        else {
            return XCTFail("a result that does not match the announcement is refused")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["a.zst"], "no partial files left")
    }

    /// A download verified before install is not hashed again while its file keeps that
    /// version; any rewrite (even of the same bytes) makes the install hash it again, and the
    /// decompressed digest is checked in both cases.
    func testCompressedDigestIsSkippedOnlyForTheVerifiedVersionOfTheFile() throws {
        let bytes = try TestArtifacts.write()
        let (compressed, digests) = try ArtifactTransport.compress(bytes)
        let packed = directory.appendingPathComponent("a.zst"), out = directory.appendingPathComponent("out.flta")
        try Data(compressed).write(to: packed)
        let version = try XCTUnwrap(FileVersion.of(path: packed.path))
        XCTAssertEqual(version.size, compressed.count)

        // A wrong compressed digest shows which path ran: skipped for the verified version...
        var wrongCompressed = digests
        wrongCompressed.compressedSHA256 = String(repeating: "f", count: 64)
        try ArtifactTransport.decompress(
            fileAt: packed, to: out, expected: wrongCompressed, maxBytes: 1 << 20, compressedVerifiedAt: version)
        XCTAssertEqual(Array(try Data(contentsOf: out)), bytes)
        try FileManager.default.removeItem(at: out)

        // ...checked without one, and checked again once the file was rewritten.
        guard
            case .transportMismatch(let what, _, _) = artifactError({
                try ArtifactTransport.decompress(fileAt: packed, to: out, expected: wrongCompressed, maxBytes: 1 << 20)
            })
        else { return XCTFail("without a verified version the compressed file is hashed") }
        XCTAssertTrue(what.hasPrefix("compressed"), what)
        // A replacement (a new inode) with the same bytes: no clock granularity involved.
        try Data(compressed).write(to: packed, options: .atomic)
        XCTAssertNotEqual(FileVersion.of(path: packed.path), version)
        guard
            case .transportMismatch(let again, _, _) = artifactError({
                try ArtifactTransport.decompress(
                    fileAt: packed, to: out, expected: wrongCompressed, maxBytes: 1 << 20, compressedVerifiedAt: version)
            })
        else { return XCTFail("a rewritten file is hashed again") }
        XCTAssertTrue(again.hasPrefix("compressed"), again)

        // The decompressed digest still guards a skipped compressed check.
        var wrongResult = digests
        wrongResult.uncompressedSHA256 = String(repeating: "0", count: 64)
        let current = try XCTUnwrap(FileVersion.of(path: packed.path))
        guard
            case .transportMismatch(let result, _, _) = artifactError({
                try ArtifactTransport.decompress(
                    fileAt: packed, to: out, expected: wrongResult, maxBytes: 1 << 20, compressedVerifiedAt: current)
            })
        else { return XCTFail("the decompressed digest is checked") }
        XCTAssertTrue(result.hasPrefix("decompressed"), result)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }
}
