import Foundation
import ONNXProto
import SwiftProtobuf
import TestSupport
import XCTest

/// A model file is untrusted input: anything that is not a valid ModelProto must come back as a
/// thrown error, never a crash, a hang or unbounded recursion.
final class MalformedInputTests: XCTestCase {
    func testInvalidWireTypeThrows() {
        // Tag byte 0x0F is field 1 with wire type 7, which does not exist.
        XCTAssertThrowsError(try Onnx_ModelProto(serializedBytes: [0x0F, 0x00])) { error in
            XCTAssertTrue(error is BinaryDecodingError, "unexpected error type \(error)")
        }
    }

    func testLengthPastEndOfBufferThrows() {
        // Field 7 (graph), length-delimited, claims 127 bytes but one follows.
        XCTAssertThrowsError(try Onnx_ModelProto(serializedBytes: [0x3A, 0x7F, 0x01])) { error in
            XCTAssertEqual(error as? BinaryDecodingError, .truncated)
        }
    }

    func testTruncatedRealModelThrows() throws {
        let bytes = try Fixtures.bytes("tiny_conv", "onnx")
        // Dropping the last byte always leaves the final field incomplete.
        XCTAssertThrowsError(try Onnx_ModelProto(serializedBytes: Array(bytes.dropLast())))
        // Cutting inside the graph (field 7) must fail too, not yield a half graph.
        XCTAssertThrowsError(try Onnx_ModelProto(serializedBytes: Array(bytes.prefix(bytes.count / 2))))
    }

    func testTextIsNotAModel() {
        let text = Array("ir_version: 10\ngraph { node { op_type: \"Conv\" } }\n".utf8)
        XCTAssertThrowsError(try Onnx_ModelProto(serializedBytes: text))
    }

    /// graph → node → attribute → graph → … nested far beyond any real model; the decoder's depth
    /// limit must turn this into an error before the stack overflows.
    func testDeeplyNestedSubgraphsThrow() {
        var graph: [UInt8] = []
        for _ in 0..<5_000 {
            let attribute = field(6, graph)  // AttributeProto.g
            let node = field(5, attribute)  // NodeProto.attribute
            graph = field(1, node)  // GraphProto.node
        }
        XCTAssertThrowsError(try Onnx_ModelProto(serializedBytes: field(7, graph))) { error in
            XCTAssertEqual(error as? BinaryDecodingError, .messageDepthLimit)
        }
    }

    /// Random bytes either parse (protobuf accepts many byte strings as unknown fields) or
    /// throw; the test is that none of them traps.
    func testRandomGarbageNeverCrashes() {
        var rng = SplitMix64(seed: 0xBAD_F00D)
        var failures = 0
        for _ in 0..<2_000 {
            let count = Int(rng.next() % 256)
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            do {
                _ = try Onnx_ModelProto(serializedBytes: bytes)
            } catch {
                failures += 1
            }
        }
        // Long random strings almost never form valid tags and lengths throughout.
        XCTAssertGreaterThan(failures, 1_500)
    }

    /// A length-delimited field: tag (field number, wire type 2), varint length, payload.
    private func field(_ number: UInt64, _ payload: [UInt8]) -> [UInt8] {
        varint(number << 3 | 2) + varint(UInt64(payload.count)) + payload
    }

    private func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        repeat {
            let low = UInt8(value & 0x7F)
            value >>= 7
            out.append(value == 0 ? low : low | 0x80)
        } while value != 0
        return out
    }
}
