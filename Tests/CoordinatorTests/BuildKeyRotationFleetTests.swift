import Coordinator
import FleetTestSupport
import Foundation
import ModelArtifact
import XCTest

/// The signing-key rotation of docs/keys.md, from a device's side: a device that pinned the
/// keys exported after `keys prepare` accepts every release signed before and after
/// `keys rotate`, and so does a rollback to the old release; one that missed step 1 is
/// refused the new releases (so the order matters); after `keys remove` and a re-pin, old
/// releases are refused. The live fleet path (agents over MQTT) pins keys the same way
/// (`AgentConfigFile.pinnedKeyFiles` → `ArtifactTrust.pinnedKeys`).
final class BuildKeyRotationFleetTests: XCTestCase {
    var data: URL!

    override func setUpWithError() throws {
        data = FileManager.default.temporaryDirectory.appendingPathComponent("key-rotation-\(UUID().uuidString.prefix(8))")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: data)
    }

    /// What a device pins after installing `flotilla-coordinator keys export`.
    func pinned(_ pem: String) throws -> [ArtifactPublicKey] {
        try pem.components(separatedBy: "-----END PUBLIC KEY-----").dropLast().map {
            try ArtifactPublicKey(pemRepresentation: $0 + "-----END PUBLIC KEY-----\n")
        }
    }

    func release(_ sequence: UInt64, signedBy key: ArtifactSigningKey) throws -> [UInt8] {
        try FleetRelease.artifact(version: "1.\(sequence).0", sequence: sequence, hardwareClass: "x86_64-avx2", key: key, seed: sequence)
    }

    func testDevicesThatPinnedThePreparedKeyAcceptReleasesAcrossTheRotation() throws {
        var ring = try SigningKeyring.open(dataDirectory: data)
        let oldKeyID = ring.activeKeyID
        let before = try pinned(ring.publicKeysPEM())
        let v1 = try release(1, signedBy: ring.activeKey)

        // Step 1: prepare, export, pin on the fleet. One device misses the update.
        let next = try ring.prepareRotation()
        let updatedDevice = try pinned(ring.publicKeysPEM())
        XCTAssertEqual(Set(updatedDevice.map(\.keyID)), [oldKeyID, next.keyID])
        let laggingDevice = before

        // Releases signed before the rotation keep verifying on both devices.
        let v2 = try release(2, signedBy: ring.activeKey)
        for device in [updatedDevice, laggingDevice] {
            XCTAssertEqual(try ArtifactReader.read(bytes: v2, trust: .pinnedKeys(device)).manifest.releaseSequence, 2)
        }

        // Step 2: rotate; the next release is signed by the new key.
        try ring.rotate()
        XCTAssertEqual(ring.activeKeyID, next.keyID)
        let v3 = try release(3, signedBy: ring.activeKey)
        XCTAssertEqual(try ArtifactReader.read(bytes: v3, trust: .pinnedKeys(updatedDevice)).manifest.releaseSequence, 3)
        XCTAssertEqual(try ArtifactReader.read(bytes: v1, trust: .pinnedKeys(updatedDevice)).manifest.releaseSequence, 1, "rollback target")
        XCTAssertThrowsError(try ArtifactReader.read(bytes: v3, trust: .pinnedKeys(laggingDevice))) { error in
            guard case ArtifactError.unknownSigningKey = error else { return XCTFail("\(error)") }
        }

        // Step 4: unpin and remove the old key; old releases are refused from then on.
        try ring.remove(keyID: oldKeyID)
        let afterRemoval = try pinned(ring.publicKeysPEM())
        XCTAssertEqual(afterRemoval.map(\.keyID), [next.keyID])
        XCTAssertNoThrow(try ArtifactReader.read(bytes: v3, trust: .pinnedKeys(afterRemoval)))
        XCTAssertThrowsError(try ArtifactReader.read(bytes: v1, trust: .pinnedKeys(afterRemoval)))
    }
}
