import Crypto
import FleetProtocol
import Foundation

/// SplitMix64: deterministic test data.
struct SeededRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = SeededRNG(seed: seed)
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
