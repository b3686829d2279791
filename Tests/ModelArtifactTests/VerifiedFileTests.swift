import Foundation
import TestSupport
import XCTest

@testable import ModelArtifact

/// `ArtifactReader.open(_:trust:verified:)`: the section SHA-256s are skipped only for the file
/// version whose whole-file digest the caller checked; any change to the file brings them back.
final class VerifiedFileTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("verified-file-tests") }
    override func tearDownWithError() throws { if let directory { try? FileManager.default.removeItem(at: directory) } }

    /// Installs an artifact the agent's way: compress, then decompress into the slot.
    private func install(_ bytes: [UInt8]) throws -> (slot: URL, proof: VerifiedFile, digests: ArtifactTransportDigests) {
        let (compressed, digests) = try ArtifactTransport.compress(bytes)
        let download = directory.appendingPathComponent("download.zst"), slot = directory.appendingPathComponent("slot.flta")
        try Data(compressed).write(to: download)
        let proof = try XCTUnwrap(try ArtifactTransport.decompress(fileAt: download, to: slot, expected: digests, maxBytes: 1 << 20))
        return (slot, proof, digests)
    }

    private func weightsOffset(_ bytes: [UInt8]) throws -> Int {
        let layout = try bytes.withUnsafeBytes { (raw) throws(ArtifactError) -> ArtifactLayout in try ArtifactLayout.parse(raw) }
        let weights = try XCTUnwrap(layout.entry(.weights))
        XCTAssertGreaterThan(weights.length, 8)
        return weights.offset + weights.length / 2
    }

    func testDecompressHandsOnTheCheckedDigestAndTheInstalledVersion() throws {
        let key = ArtifactSigningKey.generate()
        let bytes = try TestArtifacts.write(signingKey: key)
        let (slot, proof, digests) = try install(bytes)
        XCTAssertEqual(proof.sha256, digests.uncompressedSHA256)
        XCTAssertEqual(proof.sha256, Hex.string(SHA256Digest.of(bytes)))
        XCTAssertEqual(proof.version, FileVersion.of(path: slot.path), "the version after the rename")
        XCTAssertEqual(proof.version.size, bytes.count)

        let skipped = try ArtifactReader.open(slot, trust: .pinnedKeys([key.publicKey]), verified: proof)
        XCTAssertEqual(skipped.sectionDigests, .coveredByWholeFile(sha256: digests.uncompressedSHA256))
        let hashed = try ArtifactReader.open(slot, trust: .pinnedKeys([key.publicKey]))
        XCTAssertEqual(hashed.sectionDigests, .hashed)
        // Same content either way.
        XCTAssertEqual(skipped.contentDigest, hashed.contentDigest)
        XCTAssertEqual(skipped.model, hashed.model)
        XCTAssertEqual(skipped.packedWeights, hashed.packedWeights)
        XCTAssertEqual(skipped.signingKeyID, key.keyID)
    }

    /// Damage written after the install changes the version: the sections are hashed and the
    /// damaged one is named.
    func testDamageAfterTheInstallIsCaughtByTheSectionDigests() throws {
        let key = ArtifactSigningKey.generate()
        let bytes = try TestArtifacts.write(signingKey: key)
        let (slot, proof, _) = try install(bytes)
        let at = try weightsOffset(bytes)
        let handle = try FileHandle(forUpdating: slot)
        try handle.seek(toOffset: UInt64(at))
        try handle.write(contentsOf: Data([bytes[at] ^ 0x01]))
        try handle.close()
        XCTAssertNotEqual(FileVersion.of(path: slot.path), proof.version)

        guard
            case .digestMismatch(let section, _) = artifactError({
                try ArtifactReader.open(slot, trust: .pinnedKeys([key.publicKey]), verified: proof)
            })
        else { return XCTFail("a damaged section is caught once the version moved") }
        XCTAssertEqual(section, "weights")
    }

    /// A touch (same bytes, new times), a replacement with the same bytes (new inode), or a
    /// proof for another file: the sections are hashed, and the intact file opens.
    func testAnyOtherVersionFallsBackToHashingEverySection() throws {
        let key = ArtifactSigningKey.generate()
        let trust = ArtifactTrust.pinnedKeys([key.publicKey])
        let bytes = try TestArtifacts.write(signingKey: key)
        let (slot, proof, _) = try install(bytes)

        var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        XCTAssertEqual(utimensat(AT_FDCWD, slot.path, &times, 0), 0)
        XCTAssertNotEqual(FileVersion.of(path: slot.path), proof.version)
        XCTAssertEqual(try ArtifactReader.open(slot, trust: trust, verified: proof).sectionDigests, .hashed)

        try Data(bytes).write(to: slot, options: .atomic)
        XCTAssertEqual(try ArtifactReader.open(slot, trust: trust, verified: proof).sectionDigests, .hashed)

        let other = directory.appendingPathComponent("other.flta")
        try Data(bytes).write(to: other)
        let otherProof = VerifiedFile(sha256: proof.sha256, version: try XCTUnwrap(FileVersion.of(path: other.path)))
        XCTAssertEqual(try ArtifactReader.open(slot, trust: trust, verified: otherProof).sectionDigests, .hashed)
        XCTAssertEqual(
            try ArtifactReader.open(other, trust: trust, verified: otherProof).sectionDigests, .coveredByWholeFile(sha256: proof.sha256))
    }

    /// The skip covers only digests: the signature and the structure are still checked.
    func testSignatureIsCheckedWhenDigestsAreSkipped() throws {
        let key = ArtifactSigningKey.generate()
        let bytes = try TestArtifacts.write(signingKey: key)
        let (slot, proof, _) = try install(bytes)
        guard
            case .unknownSigningKey = artifactError({
                try ArtifactReader.open(slot, trust: .pinnedKeys([ArtifactSigningKey.generate().publicKey]), verified: proof)
            })
        else { return XCTFail("the signature is checked against the pinned keys") }
    }
}
