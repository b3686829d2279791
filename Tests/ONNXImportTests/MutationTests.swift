import Foundation
import ModelIR
import ONNXImport
import ONNXProto
import TestSupport
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
        var rng = SplitMix64(seed: 0x5EED_F10A)
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

/// Structured robustness: extreme attribute values and shape constants (the byte-level
/// mutations rarely produce these) must give errors or models, never traps.
final class AttributeMutationTests: XCTestCase {
    typealias P = Proto

    /// Shape-heavy ops whose int64 inputs the mutation replaces with extreme values.
    func shapeOpsModel() -> Onnx_ModelProto {
        let g = P.graph(
            [
                P.node("Slice", ["x", "st", "en", "ax", "sp"], ["a"]),
                P.node("Pad", ["a", "pads"], ["b"]),
                P.node("Tile", ["b", "reps"], ["c"]),
                P.node("Split", ["c", "split"], ["d", "e"], [P.attr("axis", int: 1)]),
                P.node("Resize", ["d", "", "scales"], ["f"]),
                P.node("TopK", ["f", "k"], ["g", "gi"], [P.attr("axis", int: -1)]),
                P.node("ConvTranspose", ["g", "w"], ["h"], [P.attr("strides", ints: [2, 2])]),
                P.node("MaxPool", ["h"], ["i"], [P.attr("kernel_shape", ints: [2, 2]), P.attr("ceil_mode", int: 1)]),
                P.node("Expand", ["i", "eshape"], ["j"]),
                P.node("Transpose", ["j"], ["k2"], [P.attr("perm", ints: [0, 2, 3, 1])]),
                P.node("Range", ["r0", "r1", "r2"], ["rng"]),
                P.node("ConstantOfShape", ["cshape"], ["cos"]),
                P.node("Reshape", ["k2", "rshape"], ["y"]),
            ],
            inputs: [P.value("x", 1, ["N", 4, 8, 8])],
            outputs: [P.value("y", 1, nil), P.value("e", 1, nil), P.value("gi", 7, nil), P.value("rng", 7, nil), P.value("cos", 1, nil)],
            initializers: [
                P.int64s("st", [0, 1]), P.int64s("en", [Int64.max, -1]), P.int64s("ax", [1, 2]), P.int64s("sp", [1, 1]),
                P.int64s("pads", [0, 0, 1, 1, 0, 0, 1, 1]), P.int64s("reps", [1, 2, 1, 1]), P.int64s("split", [4, 4]),
                P.floats("scales", [1, 1, 2, 2], [4]), P.int64s("k", [3]),
                P.floats("w", Array(repeating: 0.5, count: 4 * 2 * 9), [4, 2, 3, 3]),
                P.int64s("eshape", [1, 1, 1, 1]), P.int64s("r0", [0], []), P.int64s("r1", [10], []), P.int64s("r2", [3], []),
                P.int64s("cshape", [2, 3]), P.int64s("rshape", [0, -1]),
            ])
        return P.model(g, opset: 13)
    }

    func testShapeOpsModelImports() throws {
        let m = try importRaw(shapeOpsModel())
        // Cross-checked with onnx.shape_inference.infer_shapes(data_prop=True) on the same graph,
        // which loses N after Tile where we keep it.
        XCTAssertEqual(m.graph.valueTypes["a"]?.shape, ["N", 4, 6, 8])
        XCTAssertEqual(m.graph.valueTypes["d"]?.shape, ["N", 4, 8, 10])
        XCTAssertEqual(m.graph.valueTypes["g"]?.shape, ["N", 4, 16, 3])
        XCTAssertEqual(m.graph.valueTypes["h"]?.shape, ["N", 2, 33, 7])
        XCTAssertEqual(m.graph.valueTypes["i"]?.shape, ["N", 2, 32, 6])
        XCTAssertEqual(m.graph.valueTypes["y"]?.shape, ["N", 384])
        XCTAssertEqual(m.graph.valueTypes["rng"]?.shape, [4])
    }

    func testExtremeAttributeAndConstantValuesNeverCrash() throws {
        let rich = try Onnx_ModelProto(serializedBytes: try MutationTests(name: "rich", testClosure: { _ in }).richModel())
        try fuzz(rich, seed: 42)
        try fuzz(shapeOpsModel(), seed: 43)
    }

    func fuzz(_ original: Onnx_ModelProto, seed: UInt64) throws {
        let extremes: [Int64] = [0, -1, 1, 2, -2, 3, 7, 1 << 20, 1 << 31, 1 << 40, -(1 << 40), Int64.max, Int64.min, Int64.max - 1]
        let names = [
            "axis", "pads", "strides", "dilations", "group", "kernel_shape", "perm", "axes", "transB", "transA", "to", "keepdims", "split",
            "output_padding",
        ]
        var rng = SplitMix64(seed: seed)
        func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
        var outcomes = (ok: 0, rejected: 0)
        for _ in 0..<1500 {
            var m = original
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                switch rng.next() % 3 {
                case 0:
                    let i = Int(rng.next() % UInt64(m.graph.node.count))
                    let count = Int(rng.next() % 5)
                    m.graph.node[i].attribute.append(
                        count == 0
                            ? P.attr(pick(names), int: Int(truncatingIfNeeded: pick(extremes)))
                            : P.attr(pick(names), ints: (0..<count).map { _ in Int(truncatingIfNeeded: pick(extremes)) }))
                case 1:
                    let i = Int(rng.next() % UInt64(m.graph.initializer.count))
                    if m.graph.initializer[i].dataType == 7 {
                        m.graph.initializer[i].int64Data = m.graph.initializer[i].int64Data.map { _ in pick(extremes) }
                    } else {
                        m.graph.initializer[i].dims = m.graph.initializer[i].dims.map { _ in pick(extremes) }
                    }
                default:
                    var dims = m.graph.input[0].type.tensorType.shape.dim
                    if !dims.isEmpty {
                        dims[Int(rng.next() % UInt64(dims.count))].dimValue = pick(extremes)
                        m.graph.input[0].type.tensorType.shape.dim = dims
                    }
                }
            }
            do {
                _ = try ONNXImporter.importModel(from: try P.bytes(m))
                outcomes.ok += 1
            } catch {
                outcomes.rejected += 1
            }
        }
        XCTAssertEqual(outcomes.ok + outcomes.rejected, 1500)
        XCTAssertGreaterThan(outcomes.rejected, 100)
    }
}
