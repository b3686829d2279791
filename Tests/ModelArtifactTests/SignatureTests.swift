import XCTest

@testable import ModelArtifact

/// Ed25519 over the header digest: accepted with a pinned key, refused with a clear error for
/// each way it can go wrong.
final class SignatureTests: XCTestCase {
    /// Made with `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout`; the key id is
    /// `openssl pkey -pubout -outform DER | tail -c 32 | sha256sum | cut -c1-16`.
    static let opensslPrivatePEM = """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIIRo+fI9IvY9I08e3ycY9RBk2Av8dmZeHKwXnffakUca
        -----END PRIVATE KEY-----
        """
    static let opensslPublicPEM = """
        -----BEGIN PUBLIC KEY-----
        MCowBQYDK2VwAyEAXASPW01K+0lLUh9CGiwXj2cw3/7jrJDdvTu2kxFegdU=
        -----END PUBLIC KEY-----
        """
    static let opensslKeyID = "97ea3a6352ad4359"

    func testKeysImportFromOpenSSLAndRoundTripThroughPEMAndRaw() throws {
        let key = try ArtifactSigningKey(pemRepresentation: Self.opensslPrivatePEM)
        let pub = try ArtifactPublicKey(pemRepresentation: Self.opensslPublicPEM)
        XCTAssertEqual(key.publicKey, pub)
        XCTAssertEqual(key.keyID, Self.opensslKeyID)
        XCTAssertEqual(key.pemRepresentation.trimmingCharacters(in: .whitespacesAndNewlines), Self.opensslPrivatePEM)
        XCTAssertEqual(pub.pemRepresentation.trimmingCharacters(in: .whitespacesAndNewlines), Self.opensslPublicPEM)
        let fresh = ArtifactSigningKey.generate()
        XCTAssertEqual(try ArtifactSigningKey(rawRepresentation: fresh.rawRepresentation).publicKey, fresh.publicKey)
        XCTAssertEqual(try ArtifactPublicKey(rawRepresentation: fresh.publicKey.rawRepresentation).keyID, fresh.keyID)
        XCTAssertEqual(fresh.keyID.count, 16)
        XCTAssertThrowsError(try ArtifactSigningKey(rawRepresentation: [1, 2, 3]))
        XCTAssertThrowsError(try ArtifactPublicKey(pemRepresentation: Self.opensslPrivatePEM), "a private PEM is not a public key")
        XCTAssertThrowsError(try ArtifactSigningKey(pemRepresentation: "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----"))
    }

    func testSignedArtifactVerifiesWithAPinnedKey() throws {
        let key = try ArtifactSigningKey(pemRepresentation: Self.opensslPrivatePEM)
        let bytes = try TestArtifacts.write(signingKey: key)
        let artifact = try ArtifactReader.read(bytes: bytes, trust: .pinnedKeys([key.publicKey]))
        XCTAssertEqual(artifact.signingKeyID, Self.opensslKeyID)
        XCTAssertEqual(artifact.contentDigest.count, 64)
    }

    func testRotatedKeysAreAcceptedWhilePinned() throws {
        let old = ArtifactSigningKey.generate(), new = ArtifactSigningKey.generate()
        let pinned: [ArtifactPublicKey] = [old.publicKey, new.publicKey]
        XCTAssertEqual(
            try ArtifactReader.read(bytes: TestArtifacts.write(signingKey: old), trust: .pinnedKeys(pinned)).signingKeyID, old.keyID)
        XCTAssertEqual(
            try ArtifactReader.read(bytes: TestArtifacts.write(signingKey: new), trust: .pinnedKeys(pinned)).signingKeyID, new.keyID)
        // After the old key is unpinned, its artifacts are refused.
        guard
            case .unknownSigningKey(let id, let list) = artifactError({
                try ArtifactReader.read(bytes: TestArtifacts.write(signingKey: old), trust: .pinnedKeys([new.publicKey]))
            })
        else { return XCTFail() }
        XCTAssertEqual(id, old.keyID)
        XCTAssertEqual(list, [new.keyID])
    }

    func testUnsignedArtifactIsRefusedWhenASignatureIsRequired() throws {
        let bytes = try TestArtifacts.write()
        XCTAssertEqual(
            artifactError { try ArtifactReader.read(bytes: bytes, trust: .pinnedKeys([ArtifactSigningKey.generate().publicKey])) },
            .unsigned)
        XCTAssertNoThrow(try ArtifactReader.read(bytes: bytes, trust: .skipSignatureCheck))
    }

    func testForgedSignatureIsRefused() throws {
        let key = ArtifactSigningKey.generate()
        var bytes = try TestArtifacts.write(signingKey: key)
        bytes[bytes.count - 1] ^= 0x01  // last byte of the Ed25519 signature
        XCTAssertEqual(
            artifactError { try ArtifactReader.read(bytes: bytes, trust: .pinnedKeys([key.publicKey])) }, .badSignature(keyID: key.keyID))
    }

    func testSignatureFromAnotherKeyWithAPinnedIDIsRefused() throws {
        // Re-sign a valid artifact with a different key but keep the pinned key's id.
        let pinned = ArtifactSigningKey.generate(), attacker = ArtifactSigningKey.generate()
        var bytes = try TestArtifacts.write(signingKey: pinned)
        let layout = try bytes.withUnsafeBytes { try ArtifactLayout.parse($0) }
        let forged = try ArtifactWriter.signaturePayload(headerDigest: layout.headerDigest, key: attacker)
        bytes.replaceSubrange((bytes.count - 64)..<bytes.count, with: forged.suffix(64))
        XCTAssertEqual(
            artifactError { try ArtifactReader.read(bytes: bytes, trust: .pinnedKeys([pinned.publicKey])) },
            .badSignature(keyID: pinned.keyID))
    }

    func testTamperedByteIsADigestError() throws {
        let key = ArtifactSigningKey.generate()
        let bytes = try TestArtifacts.write(signingKey: key)
        let layout = try bytes.withUnsafeBytes { try ArtifactLayout.parse($0) }
        let weights = try XCTUnwrap(layout.entry(.weights))
        var tampered = bytes
        tampered[weights.offset + 3] ^= 0x80
        XCTAssertEqual(
            artifactError { try ArtifactReader.read(bytes: tampered, trust: .pinnedKeys([key.publicKey])) },
            .digestMismatch(section: "weights", offset: weights.offset))
        // A byte in the table (a section digest) breaks the header digest before anything else.
        tampered = bytes
        tampered[64 + 40] ^= 0x01
        XCTAssertEqual(
            artifactError { try ArtifactReader.read(bytes: tampered, trust: .pinnedKeys([key.publicKey])) },
            .digestMismatch(section: "header and section table", offset: 0))
    }

    func testSignedOutputIsDeterministic() throws {
        let key = try ArtifactSigningKey(pemRepresentation: Self.opensslPrivatePEM)
        XCTAssertEqual(try TestArtifacts.write(signingKey: key), try TestArtifacts.write(signingKey: key))
    }
}
