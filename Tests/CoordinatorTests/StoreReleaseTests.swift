import FleetProtocol
import Foundation
import XCTest

@testable import Coordinator

final class StoreReleaseTests: StoreTestCase {
    func variant(_ version: String, _ hardwareClass: String, digest: String) -> VariantRecord {
        VariantRecord(
            modelName: "resnet", modelVersion: version, hardwareClass: hardwareClass, artifactDigest: digest,
            artifactPath: "artifacts/\(digest).fla.zst", uncompressedSize: 1_000_000, uncompressedSHA256: digest, compressedSize: 700_000,
            compressedSHA256: "c-\(digest)", chunkSize: 262_144, reportJSON: #"{"layers":[{"name":"conv1","sqnr":31.5}]}"#,
            metrics: ["accuracyInt8": 0.75, "agreement": 0.984375, "latencyP95Us": 1234])
    }

    func testCreateAllocatesIncreasingSequencesPerModel() throws {
        let store = try open()
        let a = try store.createRelease(newRelease("1.0"))
        let b = try store.createRelease(newRelease("1.1"))
        let other = try store.createRelease(newRelease("0.1", name: "yolo"))
        XCTAssertEqual([a.releaseSequence, b.releaseSequence, other.releaseSequence], [1, 2, 1])
        XCTAssertEqual(a.status, .building)
        XCTAssertEqual(try store.release(name: "resnet", version: "1.0"), a)
        XCTAssertEqual(try store.release(name: "resnet", releaseSequence: 2), b)
        XCTAssertNil(try store.release(name: "resnet", releaseSequence: 3))
        XCTAssertEqual(try store.releases(name: "resnet").map(\.version), ["1.1", "1.0"])
        XCTAssertEqual(try store.releases(name: nil).map(\.name), ["resnet", "resnet", "yolo"])
    }

    func testDuplicateVersionConflictsAndBurnsNoSequence() throws {
        let store = try open()
        _ = try store.createRelease(newRelease("1.0"))
        guard case .conflict(let kind, let key, _) = storeError({ try store.createRelease(self.newRelease("1.0")) }) else {
            return XCTFail()
        }
        XCTAssertEqual([kind, key], ["release", "resnet 1.0"])
        XCTAssertEqual(try store.createRelease(newRelease("1.1")).releaseSequence, 2)
        guard
            case .invalid = storeError({
                try store.createRelease(
                    NewRelease(name: "m", version: "1", createdBy: "a", createdAtMs: 0, sourceSHA256: "s", optionsJSON: "{nope"))
            })
        else {
            return XCTFail()
        }
    }

    func testSequencesAreNeverReusedAfterFailureOrReopen() throws {
        var store = try open()
        let first = try store.createRelease(newRelease("1.0"))
        try store.updateReleaseStatus(name: "resnet", version: "1.0", status: .failed, error: "calibration data is empty")
        XCTAssertEqual(try store.release(name: "resnet", version: "1.0")?.error, "calibration data is empty")
        XCTAssertEqual(try store.release(name: "resnet", version: "1.0")?.status, .failed)
        try store.close()
        store = try open()
        let second = try store.createRelease(newRelease("1.0-retry"))
        XCTAssertEqual(first.releaseSequence, 1)
        XCTAssertEqual(second.releaseSequence, 2)
        try store.close()
    }

    func testBaselineIsLatestReadyBelow() throws {
        let store = try open()
        for v in ["1", "2", "3", "4", "5"] { _ = try store.createRelease(newRelease(v)) }
        try store.updateReleaseStatus(name: "resnet", version: "1", status: .ready, error: nil)
        try store.updateReleaseStatus(name: "resnet", version: "2", status: .ready, error: nil)
        try store.updateReleaseStatus(name: "resnet", version: "3", status: .failed, error: "x")
        try store.updateReleaseStatus(name: "resnet", version: "5", status: .ready, error: nil)
        XCTAssertEqual(try store.latestReadyRelease(name: "resnet", before: 5)?.version, "2")
        XCTAssertEqual(try store.latestReadyRelease(name: "resnet", before: 6)?.version, "5")
        XCTAssertEqual(try store.latestReadyRelease(name: "resnet", before: .max)?.version, "5")
        XCTAssertNil(try store.latestReadyRelease(name: "resnet", before: 1))
        XCTAssertNil(try store.latestReadyRelease(name: "yolo", before: 9))
        guard case .notFound = storeError({ try store.updateReleaseStatus(name: "resnet", version: "9", status: .ready, error: nil) })
        else {
            return XCTFail()
        }
    }

    func testVariantsPutGetListReplace() throws {
        let store = try open()
        _ = try store.createRelease(newRelease("1.0"))
        try store.putVariant(variant("1.0", "x86-avx2", digest: "aa"))
        try store.putVariant(variant("1.0", "arm-dot", digest: "bb"))
        XCTAssertEqual(try store.variants(name: "resnet", version: "1.0").map(\.hardwareClass), ["arm-dot", "x86-avx2"])
        XCTAssertEqual(try store.variant(name: "resnet", version: "1.0", hardwareClass: "arm-dot"), variant("1.0", "arm-dot", digest: "bb"))
        XCTAssertEqual(try store.variant(artifactDigest: "aa")?.hardwareClass, "x86-avx2")
        XCTAssertNil(try store.variant(artifactDigest: "zz"))
        // A rebuild replaces the class's variant.
        try store.putVariant(variant("1.0", "arm-dot", digest: "cc"))
        XCTAssertEqual(try store.variant(name: "resnet", version: "1.0", hardwareClass: "arm-dot")?.artifactDigest, "cc")
        XCTAssertEqual(try store.variants(name: "resnet", version: "1.0").count, 2)
    }

    func testVariantValidation() throws {
        let store = try open()
        guard case .notFound(let kind, _) = storeError({ try store.putVariant(self.variant("9.9", "x", digest: "d")) }) else {
            return XCTFail()
        }
        XCTAssertEqual(kind, "release")
        _ = try store.createRelease(newRelease("1.0"))
        for path in ["/etc/passwd", "../outside", "artifacts//x", "", "a/../../b"] {
            var v = variant("1.0", "x86", digest: "d")
            v.artifactPath = path
            guard case .invalid(let field, _) = storeError({ try store.putVariant(v) }) else { return XCTFail(path) }
            XCTAssertTrue(field.contains("artifactPath"))
        }
        var nan = variant("1.0", "x86", digest: "d")
        nan.metrics["accuracyInt8"] = .nan
        guard case .invalid = storeError({ try store.putVariant(nan) }) else { return XCTFail() }
        var negative = variant("1.0", "x86", digest: "d")
        negative.compressedSize = -1
        guard case .invalid = storeError({ try store.putVariant(negative) }) else { return XCTFail() }
        XCTAssertEqual(try store.variants(name: "resnet", version: "1.0"), [])
    }

    func testReleasesAndVariantsSurviveReopen() throws {
        var store = try open()
        _ = try store.createRelease(newRelease("1.0"))
        try store.updateReleaseStatus(name: "resnet", version: "1.0", status: .ready, error: nil)
        try store.putVariant(variant("1.0", "x86-avx2", digest: "aa"))
        let release = try store.release(name: "resnet", version: "1.0")
        try store.close()
        store = try open()
        XCTAssertEqual(try store.release(name: "resnet", version: "1.0"), release)
        XCTAssertEqual(try store.variants(name: "resnet", version: "1.0"), [variant("1.0", "x86-avx2", digest: "aa")])
        XCTAssertEqual(try store.createRelease(newRelease("1.1")).releaseSequence, 2)
        try store.close()
    }
}
