import Foundation
import ModelIR
import ONNXImport
import ONNXProto
import XCTest

/// Randomized robustness: thousands of corrupted variants of a valid model must each import or
/// throw — never crash, never hang.
final class MutationTests: XCTestCase {
    typealias P = Proto

    /// A model that touches many importer paths: upgrades, constants, shape chains, If.
    func richModel() throws -> [UInt8] {
        let thenG = P.graph([P.node("Identity", ["r"], ["t"])], inputs: [], outputs: [P.value("t", 1, nil)])
        let elseG = P.graph([P.node("Neg", ["r"], ["e"])], inputs: [], outputs: [P.value("e", 1, nil)])
        let g = P.graph(
            [
                P.node("Conv", ["x", "w", "b"], ["c"], [P.attr("pads", ints: [1, 1, 1, 1])]),
                P.node("BatchNormalization", ["c", "s", "bb", "m", "v"], ["bn"]),
                P.node("Clip", ["bn"], ["r"], [P.attr("min", float: 0), P.attr("max", float: 6)]),
                P.node("Shape", ["r"], ["sh"]),
                P.node("Gather", ["sh", "zero"], ["n"]),
                P.node("Unsqueeze", ["n"], ["n1"], [P.attr("axes", ints: [0])]),
                P.node("Concat", ["n1", "m1"], ["target"], [P.attr("axis", int: 0)]),
                P.node("Reshape", ["r", "target"], ["flat"]),
                P.node("Gemm", ["flat", "fw", "fb"], ["g"], [P.attr("transB", int: 1)]),
                P.node("Softmax", ["g"], ["y"], [P.attr("axis", int: 1)]),
                P.node("If", ["cond"], ["z"], [P.attr("then_branch", graph: thenG), P.attr("else_branch", graph: elseG)]),
            ],
            inputs: [P.value("x", 1, ["N", 2, 4, 4]), P.value("cond", 9, [])], outputs: [P.value("y", 1, nil), P.value("z", 1, nil)],
            initializers: [
                P.floats("w", (0..<36).map { Float($0) }, [2, 2, 3, 3]), P.floats("b", [1, 2], [2]), P.floats("s", [1, 2], [2]),
                P.floats("bb", [0, 1], [2]), P.floats("m", [0.5, 0.25], [2]), P.floats("v", [1, 4], [2]), P.int64s("zero", [0], []),
                P.int64s("m1", [-1]), P.floats("fw", (0..<96).map { Float($0) / 96 }, [3, 32]), P.floats("fb", [0, 0, 0], [3]),
            ])
        return try P.bytes(P.model(g, opset: 10))
    }

    func testRichModelImports() throws {
        let m = try ONNXImporter.importModel(from: try richModel())
        XCTAssertEqual(m.graph.valueTypes["y"]?.shape, ["N", 3])
        XCTAssertTrue(m.graph.nodes.contains { $0.opType == "Conv" && $0.fusedActivation == .clip(min: 0, max: 6) })
        XCTAssertFalse(m.graph.nodes.contains { $0.opType == "BatchNormalization" })
    }

    func testTwoThousandMutationsNeverCrash() throws {
        let original = try richModel()
        var rng = SplitMix(seed: 0x5EED_F10A)
        var imported = 0
        var rejected = 0
        for _ in 0..<2500 {
            var bytes = original
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let position = Int(rng.next() % UInt64(max(bytes.count, 1)))
                switch rng.next() % 4 {
                case 0: if !bytes.isEmpty { bytes[position] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8)) }
                case 1: if !bytes.isEmpty { bytes[position] = UInt8(truncatingIfNeeded: rng.next()) }
                case 2: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: min(position, bytes.count))
                default: bytes = Array(bytes.prefix(position))
                }
            }
            do {
                _ = try ONNXImporter.importModel(from: bytes)
                imported += 1
            } catch {
                XCTAssertFalse("\(error)".isEmpty)
                rejected += 1
            }
        }
        XCTAssertEqual(imported + rejected, 2500)
        XCTAssertGreaterThan(rejected, 0)
        XCTAssertGreaterThan(imported, 0, "some single-bit flips (e.g. in float data) still give a valid model")
    }
}

struct SplitMix {
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
