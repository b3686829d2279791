import Coordinator
import Foundation
import ModelArtifact
import XCTest

final class BuildKeyringTests: XCTestCase {
    var data: URL!

    override func setUpWithError() throws {
        data = FileManager.default.temporaryDirectory.appendingPathComponent("keyring-tests-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: data)
    }

    func mode(_ path: String) throws -> Int {
        try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    func testFirstStartCreatesPrivateFilesAndReopenLoadsTheSameKey() throws {
        let ring = try SigningKeyring.open(dataDirectory: data)
        let keys = data.appendingPathComponent("keys")
        XCTAssertEqual(try mode(keys.path), 0o700)
        XCTAssertEqual(try mode(keys.appendingPathComponent("\(ring.activeKeyID).key").path), 0o600)
        XCTAssertEqual(ring.publicKeys.map(\.keyID), [ring.activeKeyID])

        let again = try SigningKeyring.open(dataDirectory: data)
        XCTAssertEqual(again.activeKeyID, ring.activeKeyID)
        XCTAssertEqual(again.activeKey.rawRepresentation, ring.activeKey.rawRepresentation)
    }

    func testRotationKeepsOldPublicKeysUntilRemoved() throws {
        var ring = try SigningKeyring.open(dataDirectory: data)
        let first = ring.activeKey
        let second = try ring.rotate()
        XCTAssertEqual(ring.activeKeyID, second.keyID)
        XCTAssertNotEqual(first.keyID, second.keyID)
        XCTAssertEqual(ring.publicKeys.map(\.keyID), [second.keyID, first.keyID])
        let keys = data.appendingPathComponent("keys")
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: keys.appendingPathComponent("\(first.keyID).key").path),
            "a retired key signs nothing more: its private half is gone")

        // The PEM export parses back into exactly the pinned keys.
        let pem = ring.publicKeysPEM()
        let blocks = pem.components(separatedBy: "-----END PUBLIC KEY-----").dropLast().map { $0 + "-----END PUBLIC KEY-----\n" }
        XCTAssertEqual(try blocks.map { try ArtifactPublicKey(pemRepresentation: $0).keyID }, [second.keyID, first.keyID])

        let third = try ring.rotate()
        let reopened = try SigningKeyring.open(dataDirectory: data)
        XCTAssertEqual(reopened.activeKeyID, third.keyID)
        XCTAssertEqual(reopened.publicKeys.map(\.keyID), [third.keyID, second.keyID, first.keyID])

        XCTAssertThrowsError(try ring.remove(keyID: third.keyID)) { error in
            XCTAssertEqual(error as? KeyringError, .activeKeyCannotBeRemoved(keyID: third.keyID))
        }
        XCTAssertThrowsError(try ring.remove(keyID: "00000000deadbeef")) { error in
            XCTAssertTrue("\(error)".contains(first.keyID), "lists the known keys: \(error)")
        }
        try ring.remove(keyID: first.keyID)
        XCTAssertEqual(try SigningKeyring.open(dataDirectory: data).publicKeys.map(\.keyID), [third.keyID, second.keyID])
    }

    func testPreparedKeyIsPinnableBeforeItSignsAndRotationActivatesIt() throws {
        var ring = try SigningKeyring.open(dataDirectory: data)
        let first = ring.activeKeyID
        let next = try ring.prepareRotation()
        XCTAssertEqual(try ring.prepareRotation(), next, "idempotent")
        XCTAssertEqual(ring.activeKeyID, first, "nothing is signed with the next key yet")
        XCTAssertEqual(try SigningKeyring.open(dataDirectory: data).publicKeys.map(\.keyID), [first, next.keyID])
        XCTAssertThrowsError(try ring.remove(keyID: next.keyID))
        try ring.rotate()
        XCTAssertEqual(ring.activeKeyID, next.keyID)
        XCTAssertNil(ring.nextKey)
        XCTAssertEqual(try SigningKeyring.open(dataDirectory: data).publicKeys.map(\.keyID), [next.keyID, first])
    }

    func testGroupReadableKeyFileIsRefusedWithTheFix() throws {
        let ring = try SigningKeyring.open(dataDirectory: data)
        let file = data.appendingPathComponent("keys/\(ring.activeKeyID).key").path
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        XCTAssertThrowsError(try SigningKeyring.open(dataDirectory: data)) { error in
            guard case KeyringError.insecurePermissions(let path, let mode, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, file)
            XCTAssertEqual(mode, 0o644)
            XCTAssertTrue("\(error)".contains("chmod 600 \(file)"), "\(error)")
        }
        XCTAssertThrowsError(try SigningKeyFile.read(URL(fileURLWithPath: file)))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        XCTAssertEqual(try SigningKeyring.open(dataDirectory: data).activeKeyID, ring.activeKeyID)
    }

    func testCorruptIndexIsReported() throws {
        _ = try SigningKeyring.open(dataDirectory: data)
        let index = data.appendingPathComponent("keys/keyring.json")
        try Data("{\"active\": \"../../etc\", \"retired\": []}".utf8).write(to: index)
        XCTAssertThrowsError(try SigningKeyring.open(dataDirectory: data)) { error in
            XCTAssertTrue("\(error)".contains("keyring.json"), "\(error)")
        }
    }
}
