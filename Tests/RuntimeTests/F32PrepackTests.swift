import ModelIR
import Runtime
import TestSupport
import XCTest

/// fp32 Gemm/MatMul weights pre-packed for a kernel path (`F32GemmPrepack`): which weights are
/// packed, that plans given them compute exactly what plans packing at plan time compute (for
/// any pairing of packed path and plan path, batch > 1), that aligned borrowed storage is read
/// in place, and what is refused.
final class F32PrepackTests: XCTestCase {
    static let features = 20, hidden = 30, outputs = 17

    /// x[N,20] → Gemm(w1ᵀ, transB, alpha, c1) → Relu → MatMul(w2) = y1; the same Relu output
    /// through MatMul(ws) = y2 and Gemm(ws) = y3 (ws read twice: never packed); wOut is also a
    /// graph output (never packed).
    static func model(alpha: Float, seed: UInt64 = 0xF32) throws -> Model {
        var rng = SplitMix64(seed: seed)
        let w1 = try Tensor(floats: rng.floats(hidden * features), shape: [hidden, features])
        let c1 = try Tensor(floats: rng.floats(hidden), shape: [hidden])
        let w2 = try Tensor(floats: rng.floats(hidden * outputs), shape: [1, hidden, outputs])
        let ws = try Tensor(floats: rng.floats(hidden * 5), shape: [hidden, 5])
        let wOut = try Tensor(floats: rng.floats(hidden * 3), shape: [hidden, 3])
        let n = Dimension.symbolic("N")
        let graph = Graph(
            name: "prepack",
            nodes: [
                Node(
                    name: "fc1", opType: "Gemm", inputs: ["x", "w1", "c1"], outputs: ["h"],
                    attributes: ["transB": .int(1), "alpha": .float(alpha)]),
                Node(name: "relu", opType: "Relu", inputs: ["h"], outputs: ["r"]),
                Node(name: "fc2", opType: "MatMul", inputs: ["r", "w2"], outputs: ["y1"]),
                Node(name: "s1", opType: "MatMul", inputs: ["r", "ws"], outputs: ["y2"]),
                Node(name: "s2", opType: "Gemm", inputs: ["r", "ws"], outputs: ["y3"]),
                Node(name: "o", opType: "MatMul", inputs: ["r", "wOut"], outputs: ["y4"]),
            ],
            inputs: [ValueInfo("x", TensorType(.float32, Shape([n, .fixed(features)])))],
            outputs: ["y1", "y2", "y3", "y4", "wOut"].map { ValueInfo($0, TensorType(.float32, nil)) },
            initializers: ["w1": w1, "c1": c1, "w2": w2, "ws": ws, "wOut": wOut])
        return Model(graph: graph, opsetImports: ["": 17])
    }

    static func runnablePaths() -> [KernelPath] {
        [KernelPath.reference, .named("avx2"), .named("avx512")].filter {
            (try? ExecutionPlan(graph: Graph(), options: .init(kernels: $0))) != nil
        }
    }

    func run(_ plan: ExecutionPlan, _ x: Tensor) throws -> [[UInt32]] {
        let out = try plan.makeSession().run(inputs: ["x": x])
        return try ["y1", "y2", "y3", "y4"].map { try XCTUnwrap(out[$0]?.floats, $0).map(\.bitPattern) }
    }

    func testOnlyWeightsOneGemmOrMatMulReadsArePackedAndTheBytesAreDeterministic() throws {
        let model = try Self.model(alpha: 0.5)
        let (stripped, packed) = try F32GemmPrepack.pack(model, path: "avx512")
        XCTAssertEqual(Set(packed.keys), ["w1", "w2"])
        XCTAssertEqual(Set(stripped.graph.initializers.keys), ["c1", "ws", "wOut"])
        XCTAssertEqual(packed["w1"]?.layout, "flotilla.f32.gemm.avx512.32")
        XCTAssertEqual(packed["w1"]?.shape, [30, 20])
        XCTAssertEqual(packed["w2"]?.shape, [1, 30, 17])
        // Header + ⌈N/32⌉·32·K floats: w1 is op(B) = w1ᵀ with N = 30, K = 20.
        XCTAssertEqual(packed["w1"]?.byteCount, 64 + 32 * 20 * 4)
        XCTAssertEqual(packed["w2"]?.byteCount, 64 + 32 * 30 * 4)
        let again = try F32GemmPrepack.pack(try Self.model(alpha: 0.5), path: "avx512").packedWeights
        XCTAssertEqual(again["w1"]?.storage.bytes, packed["w1"]?.storage.bytes)
        XCTAssertEqual(again["w2"]?.storage.bytes, packed["w2"]?.storage.bytes)
        // The reference layout is op(B) row-major: w2 itself after the header.
        let reference = try F32GemmPrepack.pack(model, path: "reference").packedWeights
        XCTAssertEqual(reference["w2"]?.layout, "flotilla.f32.gemm.reference.0")
        XCTAssertEqual(reference["w2"].map { Array($0.storage.bytes.dropFirst(64)) }, model.graph.initializers["w2"]?.storage.bytes)

        XCTAssertThrowsError(try F32GemmPrepack.pack(model, path: "neon")) { XCTAssertTrue("\($0)".contains("no fp32 kernel path")) }
        XCTAssertEqual(F32GemmPrepack.f32Path(forInt8Path: "avx512vnni"), "avx512")
        XCTAssertEqual(F32GemmPrepack.f32Path(forInt8Path: "avx2"), "avx2")
        XCTAssertEqual(F32GemmPrepack.f32Path(forInt8Path: "neondot"), "reference")
    }

    /// Every packed path on every plan path, batch 3: bit for bit what the plan computes when it
    /// packs the plain weights itself (another path's layout is repacked, alpha folded after).
    func testPrePackedWeightsGiveTheSameBitsOnEveryPathPairing() throws {
        let model = try Self.model(alpha: 0.5)
        var rng = SplitMix64(seed: 7)
        let x = try Tensor(floats: rng.floats(3 * Self.features), shape: [3, Self.features])
        let paths = Self.runnablePaths()
        XCTAssertGreaterThan(paths.count, 1, "only the reference path runs here")
        for planPath in paths {
            let plain = try ExecutionPlan(model: model, bindings: ["N": 3], options: .init(kernels: planPath, threads: 1))
            let expected = try run(plain, x)
            for packPath in ["reference", "avx2", "avx512"] {
                let (stripped, packed) = try F32GemmPrepack.pack(model, path: packPath)
                let plan = try ExecutionPlan(
                    model: stripped, bindings: ["N": 3], options: .init(kernels: planPath, packedWeights: packed, threads: 1))
                XCTAssertEqual(try run(plan, x), expected, "packed for \(packPath), planned on \(plan.kernelPathName)")
                XCTAssertEqual(plan.borrowedWeightBytes, 0, "owned arrays are copied")
                XCTAssertEqual(plan.copiedPackedWeightBytes, packed.values.reduce(0) { $0 + $1.byteCount })
            }
        }
    }

    /// Aligned borrowed storage (an mmap'd artifact) packed for the plan's own path, alpha 1:
    /// the GEMM reads it in place and the plan's own constant memory shrinks by the packed bytes.
    func testBorrowedWeightsForThePlansPathAreReadInPlace() throws {
        let model = try Self.model(alpha: 1)
        var rng = SplitMix64(seed: 8)
        let x = try Tensor(floats: rng.floats(2 * Self.features), shape: [2, Self.features])
        let plain = try ExecutionPlan(model: model, bindings: ["N": 2], options: .init(threads: 1))
        let (stripped, packed) = try F32GemmPrepack.pack(model, path: plain.kernelPathName)
        var regions: [AlignedRegion] = []
        var borrowed: [String: PackedTensor] = [:]
        for (name, w) in packed {
            let region = AlignedRegion(w.storage.bytes)
            regions.append(region)
            borrowed[name] = try PackedTensor(
                layout: w.layout, elementType: w.elementType, shape: w.shape,
                storage: TensorStorage(borrowing: region.buffer, owner: region))
        }
        let inPlace = try ExecutionPlan(model: stripped, bindings: ["N": 2], options: .init(packedWeights: borrowed, threads: 1))
        let total = packed.values.reduce(0) { $0 + $1.byteCount }
        XCTAssertEqual(inPlace.borrowedWeightBytes, total)
        XCTAssertEqual(inPlace.copiedPackedWeightBytes, 0)
        XCTAssertEqual(inPlace.constantBytes, plain.constantBytes - (total - 64 * packed.count))
        XCTAssertEqual(try run(inPlace, x), try run(plain, x))
        // The kernels read the region: changing it changes the result.
        if let w2 = borrowed["w2"], let base = w2.storage.withUnsafeBytes({ $0.baseAddress }) {
            UnsafeMutableRawPointer(mutating: base).storeBytes(of: Float(1000), toByteOffset: 64, as: Float.self)
        }
        XCTAssertNotEqual(try run(inPlace, x)[0], try run(plain, x)[0])
    }

    func testForeignLayoutsAndMismatchedHeadersAreRefused() throws {
        let model = try Self.model(alpha: 1)
        let (stripped, packed) = try F32GemmPrepack.pack(model, path: "reference")
        let w2 = try XCTUnwrap(packed["w2"])

        var int8 = packed
        int8["w2"] = try PackedTensor(layout: "flotilla.q8.gemm.reference.1", elementType: .float32, shape: w2.shape, storage: w2.storage)
        XCTAssertThrowsError(try ExecutionPlan(model: stripped, bindings: ["N": 1], options: .init(packedWeights: int8))) {
            XCTAssertTrue("\($0)".contains("not a Flotilla fp32 GEMM layout"), "\($0)")
        }

        var bytes = w2.storage.bytes
        bytes[16] = 16  // header N: 16 instead of 17
        var wrong = packed
        wrong["w2"] = try PackedTensor(layout: w2.layout, elementType: .float32, shape: w2.shape, storage: TensorStorage(bytes: bytes))
        XCTAssertThrowsError(try ExecutionPlan(model: stripped, bindings: ["N": 1], options: .init(packedWeights: wrong))) {
            XCTAssertTrue("\($0)".contains("does not match this model"), "\($0)")
        }

        var short = packed
        short["w2"] = try PackedTensor(
            layout: w2.layout, elementType: .float32, shape: w2.shape, storage: TensorStorage(bytes: Array(w2.storage.bytes.dropLast(4))))
        XCTAssertThrowsError(try ExecutionPlan(model: stripped, bindings: ["N": 1], options: .init(packedWeights: short))) {
            XCTAssertTrue("\($0)".contains("does not match this model"), "\($0)")
        }
    }
}
