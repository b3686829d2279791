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
}
