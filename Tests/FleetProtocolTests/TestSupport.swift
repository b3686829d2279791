import Crypto
import FleetProtocol
import Foundation
import TestSupport

func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
}

let digestA = String(repeating: "ab", count: 32)
let digestB = String(repeating: "cd", count: 32)

func sampleDescriptor(sequence: UInt64 = 7, hardwareClass: String = "x86-avx2") -> ArtifactDescriptor {
    ArtifactDescriptor(
        modelName: "resnet", modelVersion: "1.\(sequence)", releaseSequence: sequence, hardwareClass: hardwareClass,
        transport: TransportDigests(
            uncompressedSize: 1_000_000, uncompressedSHA256: digestA, compressedSize: 700_000, compressedSHA256: digestB))
}

func temporaryPath(_ name: String) -> String {
    "/tmp/flotilla-protocol-tests-\(name)-\(UInt64.random(in: 0...UInt64.max))"
}

enum ChunkTestSupport {
    static func sha256(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }
}
