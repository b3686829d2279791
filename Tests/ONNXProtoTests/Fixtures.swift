import Foundation
import TestSupport
import XCTest

/// Files made by the Python `onnx` package (Resources/make_fixtures.py, onnx==1.23.2), so the
/// tests read what real exporters write rather than only what our own serializer writes.
enum Fixtures {
    static func bytes(_ name: String, _ ext: String) throws -> [UInt8] {
        let url = try XCTUnwrap(
            Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Resources"),
            "fixture Resources/\(name).\(ext) is missing from the test bundle; rerun make_fixtures.py"
        )
        return [UInt8](try Data(contentsOf: url))
    }
}

/// ONNX stores raw_data little-endian regardless of host; decoding byte by byte keeps the tests
/// honest about that instead of relying on the host's byte order.
func littleEndianFloats(_ bytes: some Collection<UInt8>) -> [Float]? {
    littleEndianWords(bytes, width: 4).map { $0.map { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) } }
}

func littleEndianInt32s(_ bytes: some Collection<UInt8>) -> [Int32]? {
    littleEndianWords(bytes, width: 4).map { $0.map { Int32(bitPattern: UInt32(truncatingIfNeeded: $0)) } }
}

func littleEndianBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value -> [UInt8] in
        let bits = value.bitPattern
        return (0..<4).map { UInt8(truncatingIfNeeded: bits >> (8 * $0)) }
    }
}

private func littleEndianWords(_ bytes: some Collection<UInt8>, width: Int) -> [UInt64]? {
    let array = Array(bytes)
    guard array.count % width == 0 else { return nil }
    return stride(from: 0, to: array.count, by: width).map { start in
        (0..<width).reduce(UInt64(0)) { $0 | UInt64(array[start + $1]) << (8 * $1) }
    }
}

/// Tensor values from a fixed, portable sequence, so every run builds the same tensors.
extension SplitMix64 {
    /// Uniform in [-1, 1) with 24 bits of mantissa, so values are exact in Float.
    mutating func nextFloat() -> Float {
        Float(Int64(next() >> 40) - (1 << 23)) / Float(1 << 23)
    }
}
