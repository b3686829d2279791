import FleetProtocol
import ModelArtifact
import XCTest

final class SigningTests: XCTestCase {
    let key = try! ArtifactSigningKey(rawRepresentation: randomBytes(32, seed: 1))
    let otherKey = try! ArtifactSigningKey(rawRepresentation: randomBytes(32, seed: 2))

    func desired(_ sequence: UInt64, device: String = "d1") -> DesiredState {
        DesiredState(deviceID: device, sequence: sequence, issuedAtMs: 1, artifact: sampleDescriptor())
    }

    func signed(_ state: DesiredState, with key: ArtifactSigningKey) throws -> [UInt8] {
        MessageEnvelope.encode(try MessageSigner(key: key).sign(state))
    }

    func testSignedDesiredStateVerifiesAndReturnsItsSequence() throws {
        let verifier = MessageVerifier(pinnedKeys: [key.publicKey])
        let verified = try verifier.verifyDesiredState(try signed(desired(5), with: key), deviceID: "d1", lastAcceptedSequence: 4)
        XCTAssertEqual(verified.state, desired(5))
        XCTAssertEqual(verified.sequence, 5)
        XCTAssertEqual(verified.keyID, key.keyID)
        XCTAssertEqual(
            try verifier.verifyDesiredState(try signed(desired(1), with: key), deviceID: "d1", lastAcceptedSequence: nil).sequence, 1)
    }

    func testSignaturesAreDeterministic() throws {
        XCTAssertEqual(try signed(desired(5), with: key), try signed(desired(5), with: key))
    }

    func testRotationAcceptsEveryPinnedKeyAndRefusesOthers() throws {
        let both = MessageVerifier(pinnedKeys: [key.publicKey, otherKey.publicKey])
        XCTAssertNoThrow(try both.verifyDesiredState(try signed(desired(5), with: otherKey), deviceID: "d1", lastAcceptedSequence: nil))
        let oldOnly = MessageVerifier(pinnedKeys: [key.publicKey])
        XCTAssertThrowsError(
            try oldOnly.verifyDesiredState(try signed(desired(5), with: otherKey), deviceID: "d1", lastAcceptedSequence: nil)
        ) {
            XCTAssertEqual($0 as? ProtocolError, .unknownSigningKey(keyID: otherKey.keyID, pinned: [key.keyID]))
        }
    }

    func testTamperedPayloadOrSignatureIsRefused() throws {
        let verifier = MessageVerifier(pinnedKeys: [key.publicKey])
        var envelope = try MessageSigner(key: key).sign(desired(5))
        var tampered = envelope
        let original = String(decoding: envelope.payload, as: UTF8.self)
        tampered.payload = Array(original.replacingOccurrences(of: "\"sequence\":5", with: "\"sequence\":6").utf8)
        XCTAssertNotEqual(tampered.payload, envelope.payload)
        XCTAssertThrowsError(try verifier.verify(tampered)) { XCTAssertEqual($0 as? ProtocolError, .badSignature(keyID: key.keyID)) }
        envelope.signature[10] ^= 1
        XCTAssertThrowsError(try verifier.verify(envelope)) { XCTAssertEqual($0 as? ProtocolError, .badSignature(keyID: key.keyID)) }
    }

    func testReplayAndMisaddressedDesiredStateAreRefused() throws {
        let verifier = MessageVerifier(pinnedKeys: [key.publicKey])
        XCTAssertThrowsError(try verifier.verifyDesiredState(try signed(desired(5), with: key), deviceID: "d1", lastAcceptedSequence: 5)) {
            XCTAssertEqual($0 as? ProtocolError, .replayedSequence(deviceID: "d1", sequence: 5, lastAccepted: 5))
        }
        XCTAssertThrowsError(
            try verifier.verifyDesiredState(try signed(desired(9, device: "d2"), with: key), deviceID: "d1", lastAcceptedSequence: nil)
        ) {
            XCTAssertEqual($0 as? ProtocolError, .wrongDevice(expected: "d1", found: "d2"))
        }
    }

    func testASignedMessageOfAnotherTypeIsNotADesiredState() throws {
        let verifier = MessageVerifier(pinnedKeys: [key.publicKey])
        let cancel = DownloadCancel(hardwareClass: "c", artifactDigest: digestA, releaseSequence: 1, reason: "x")
        let bytes = MessageEnvelope.encode(try MessageSigner(key: key).sign(cancel))
        XCTAssertThrowsError(try verifier.verifyDesiredState(bytes, deviceID: "d1", lastAcceptedSequence: nil)) {
            XCTAssertEqual($0 as? ProtocolError, .wrongMessageType(expected: "desiredState", found: "downloadCancel"))
        }
    }
}
