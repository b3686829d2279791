import Foundation
import ModelIR
import Runtime
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// glibc's `mallinfo2()` in-use bytes (uordblks + hblkhd). The Swift Glibc module does not
/// import <malloc.h>, so the function is looked up with dlsym and called through the x86-64
/// System V convention for a struct return (hidden result pointer as the first argument).
func heapInUse() -> Int? {
    #if arch(x86_64) && canImport(Glibc)
        guard let symbol = dlsym(nil, "mallinfo2") else { return nil }
        typealias MallInfo2 = @convention(c) (UnsafeMutableRawPointer) -> UnsafeMutableRawPointer?
        let call = unsafeBitCast(symbol, to: MallInfo2.self)
        // struct mallinfo2: ten size_t fields; hblkhd is field 4, uordblks field 7.
        let fields = UnsafeMutablePointer<Int>.allocate(capacity: 10)
        defer { fields.deallocate() }
        fields.initialize(repeating: 0, count: 10)
        _ = call(UnsafeMutableRawPointer(fields))
        return fields[7] + fields[4]
    #else
        return nil
    #endif
}

final class Results: @unchecked Sendable {
    // Sendable proof: every access holds the lock.
    private let lock = NSLock()
    private var storage: [Int: Bool] = [:]
    func set(_ i: Int, _ v: Bool) { lock.withLock { storage[i] = v } }
    var values: [Int: Bool] { lock.withLock { storage } }
}

/// Plan-time validation, run-time input checks, the memory plan and the allocation-free op loop.
final class PlanAndSessionTests: XCTestCase {
    func chain(_ length: Int, elements: Int = 1000) -> Graph {
        var nodes: [Node] = []
        var prev = "x"
        for i in 0..<length {
            nodes.append(Node(name: "r\(i)", opType: i % 2 == 0 ? "Relu" : "Neg", inputs: [prev], outputs: ["v\(i)"]))
            prev = "v\(i)"
        }
        return Graph(
            nodes: nodes, inputs: [ValueInfo("x", TensorType(.float32, Shape(["N", .fixed(elements)])))],
            outputs: [ValueInfo(prev, TensorType(.float32, nil))])
    }

    func testEveryUnsupportedNodeIsListedAtOnce() {
        let g = Graph(
            nodes: [
                Node(name: "a", opType: "Frobnicate", inputs: ["x"], outputs: ["p"]),
                Node(name: "b", opType: "Relu", inputs: ["p"], outputs: ["q"]),
                Node(name: "c", opType: "Quux", domain: "com.example", inputs: ["x"], outputs: ["r"]),
                Node(name: "d", opType: "Add", inputs: ["x", "i"], outputs: ["s"]),
            ], inputs: [ValueInfo("x", TensorType(.float32, [2])), ValueInfo("i", TensorType(.int64, [2]))],
            outputs: [
                ValueInfo("q", TensorType(.float32, nil)), ValueInfo("r", TensorType(.float32, nil)),
                ValueInfo("s", TensorType(.float32, nil)),
            ])
        XCTAssertThrowsError(try ExecutionPlan(graph: g)) { e in
            guard case RuntimeError.planFailed(let problems) = e else { return XCTFail("\(e)") }
            // a and c are unsupported, d mixes types; b only reads a's output and is not reported.
            XCTAssertEqual(problems.map(\.node), ["a", "c", "d"])
            XCTAssertEqual(problems.map(\.opType), ["Frobnicate", "com.example:Quux", "Add"])
            XCTAssertTrue("\(e)".contains("3 problems"), "\(e)")
        }
    }

    func testUnboundSymbolNamesTheInputAndSymbol() {
        XCTAssertThrowsError(try ExecutionPlan(graph: chain(2))) { e in
            XCTAssertTrue("\(e)".contains("'x'") && "\(e)".contains("bind N"), "\(e)")
        }
    }

    func testRunTimeInputValidation() throws {
        let session = try ExecutionPlan(graph: chain(2), bindings: ["N": 2]).makeSession()
        let good = t([Float](repeating: 1, count: 2000), [2, 1000])
        XCTAssertNoThrow(try session.run(inputs: ["x": good]))
        func expect(_ inputs: [String: Tensor], _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try session.run(inputs: inputs), line: line) { e in
                XCTAssertTrue("\(e)".contains(fragment), "\(e)", line: line)
            }
        }
        expect([:], "input 'x': missing")
        expect(["x": t([Float](repeating: 1, count: 1000), [1, 1000])], "bound to [2, 1000]")
        expect(["x": ti([Int64](repeating: 1, count: 2000), [2, 1000])], "is int64 but the model needs float32")
        expect(["x": good, "z": good], "input 'z': the model has no such input")
        var wrong = [UInt8](repeating: 0, count: 4)
        try wrong.withUnsafeMutableBytes { buf in
            XCTAssertThrowsError(try session.run(inputs: ["x": good], outputs: ["v1": buf])) { e in
                XCTAssertTrue("\(e)".contains("buffer has 4 bytes"), "\(e)")
            }
        }
    }

    func testChainReusesMemory() throws {
        let plan = try ExecutionPlan(graph: chain(8), bindings: ["N": 1])
        // Input + 8 values of 4000 bytes, but at most two are alive at once (the output stays).
        XCTAssertEqual(plan.naiveArenaBytes, 9 * 4032)
        XCTAssertLessThanOrEqual(plan.peakArenaBytes, 3 * 4032)
        XCTAssertLessThan(plan.peakArenaBytes, plan.naiveArenaBytes)
        let out = try plan.makeSession().run(inputs: ["x": t((0..<1000).map { Float($0) - 500 }, [1, 1000])])
        // relu, neg, relu, neg...: the values that survive are 0 (relu of negated positives) or ≤ 0.
        let y = try XCTUnwrap(out["v7"]?.floats)
        XCTAssertEqual(y[0], 0)
        XCTAssertEqual(y[999], 0)
    }

    func testReshapeLikeOpsAliasTheirInput() throws {
        let g = Graph(
            nodes: [
                Node(name: "r", opType: "Relu", inputs: ["x"], outputs: ["a"]),
                Node(name: "s", opType: "Reshape", inputs: ["a", "shape"], outputs: ["b"]),
                Node(name: "f", opType: "Flatten", inputs: ["b"], outputs: ["c"], attributes: ["axis": .int(0)]),
                Node(name: "n", opType: "Neg", inputs: ["c"], outputs: ["y"]),
            ], inputs: [ValueInfo("x", TensorType(.float32, [2, 3]))],
            outputs: [ValueInfo("y", TensorType(.float32, nil)), ValueInfo("b", TensorType(.float32, nil))],
            initializers: ["shape": ti([3, 2], [2])])
        let plan = try ExecutionPlan(graph: g)
        XCTAssertEqual(plan.stepCount, 2)  // Relu and Neg; Reshape and Flatten run as views
        XCTAssertNil(plan.memoryPlan.offset(of: "b"))
        let out = try plan.makeSession().run(inputs: ["x": t([-1, 2, -3, 4, -5, 6], [2, 3])])
        assertClose(out["b"], [0, 2, 0, 4, 0, 6], shape: [3, 2])
        assertClose(out["y"], [0, -2, 0, -4, 0, -6], shape: [1, 6])
    }

    func testBuffersAliveTogetherNeverOverlap() throws {
        let model = try Fixtures.importModel("mobilenetv2_shaped.onnx")
        let plan = try ExecutionPlan(model: model, bindings: ["N": 1])
        let mp = plan.memoryPlan
        XCTAssertGreaterThan(mp.requests.count, 60)
        for i in mp.requests.indices {
            for j in mp.requests.indices where j > i {
                let (a, b) = (mp.requests[i], mp.requests[j])
                guard a.firstStep <= b.lastStep, b.firstStep <= a.lastStep, a.bytes > 0, b.bytes > 0 else { continue }
                let disjoint = mp.offsets[i] + a.bytes <= mp.offsets[j] || mp.offsets[j] + b.bytes <= mp.offsets[i]
                XCTAssertTrue(disjoint, "\(a.name) and \(b.name) are alive together but overlap")
            }
            XCTAssertLessThanOrEqual(mp.offsets[i] + mp.requests[i].bytes, plan.peakArenaBytes)
        }
        XCTAssertLessThan(plan.peakArenaBytes, plan.naiveArenaBytes / 2)
        // Conv weights are kept packed only, not also as raw copies: the pool stays close to the
        // model's own weight bytes (packing pads rows to the microkernel's MR).
        let weightBytes = model.graph.initializers.values.reduce(0) { $0 + $1.byteCount }
        XCTAssertLessThan(plan.constantBytes, weightBytes * 5 / 4, "pool \(plan.constantBytes) B for \(weightBytes) B of weights")
    }

    func testGreedyBySizePlacesHandExample() {
        // a [0,1] 256 B, b [1,2] 128 B, c [2,3] 256 B. Largest first: a at 0; c is never alive
        // with a, so it reuses 0; b overlaps both in time and goes above them.
        let p = MemoryPlan(requests: [
            .init(name: "a", bytes: 256, firstStep: 0, lastStep: 1),
            .init(name: "b", bytes: 128, firstStep: 1, lastStep: 2),
            .init(name: "c", bytes: 256, firstStep: 2, lastStep: 3),
        ])
        XCTAssertEqual(p.offset(of: "a"), 0)
        XCTAssertEqual(p.offset(of: "c"), 0)
        XCTAssertEqual(p.offset(of: "b"), 256)
        XCTAssertEqual(p.peakBytes, 384)
        XCTAssertEqual(p.naiveBytes, 640)
    }

    /// Sessions of one plan on several threads agree with a single-threaded run.
    func testSessionsPerThreadShareOnePlan() throws {
        let model = try Fixtures.importModel("digits_cnn.onnx")
        let plan = try ExecutionPlan(model: model, bindings: ["N": 4])
        var rng = SplitMix64(seed: 21)
        let input = t(rng.floats(4 * 64).map { abs($0) }, [4, 1, 8, 8])
        let expected = try plan.makeSession().run(inputs: ["input": input])["logits"]
        let results = Results()
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            let session = plan.makeSession()
            var same = true
            for _ in 0..<20 { same = same && (try? session.run(inputs: ["input": input])["logits"]) == expected }
            results.set(i, same)
        }
        XCTAssertEqual(results.values, [0: true, 1: true, 2: true, 3: true])
    }

    /// After a warm-up run, 200 runs through caller-provided output buffers must leave glibc's
    /// in-use heap bytes (`mallinfo2()`: uordblks + hblkhd) exactly where they were: a per-run
    /// allocation that is kept (a cache, a growing array, a leak) shows up as growth.
    /// Allocations freed within the same run would not show; the op loop is written to make
    /// none (raw pointers into the arena, plan-time arrays only read).
    func testRunsAllocateNothingAfterWarmUp() throws {
        guard heapInUse() != nil else { throw XCTSkip("mallinfo2 is not callable here (glibc on x86-64 only)") }
        for name in ["mobilenetv2_shaped.onnx", "digits_mlp.onnx"] {
            let model = try Fixtures.importModel(name)
            let plan = try ExecutionPlan(model: model, bindings: ["N": 1])
            let session = plan.makeSession()
            var rng = SplitMix64(seed: 5)
            var inputs: [String: Tensor] = [:]
            for i in plan.inputs { inputs[i.name] = t(rng.floats(i.type.elementCount), i.type.shape) }
            var storage = plan.outputs.map { [UInt8](repeating: 0, count: $0.type.byteCount) }
            try withOutputs(plan, &storage) { outputs in
                try session.run(inputs: inputs, outputs: outputs)
                // mallinfo2 counts the whole process: other threads (event loops and tasks left
                // by earlier tests) can move it during a window. A kept allocation per run grows
                // every window by ≥ 200 chunks, so one clean window out of three proves none.
                var changes: [Int] = []
                for _ in 0..<3 {
                    let before = heapInUse() ?? 0
                    for _ in 0..<200 { try session.run(inputs: inputs, outputs: outputs) }
                    let after = heapInUse() ?? 0
                    changes.append(after - before)
                    if after == before { break }
                }
                XCTAssertEqual(changes.last, 0, "\(name): heap in use changed by \(changes) bytes over windows of 200 runs")
            }
        }
    }

    /// Hostile sizes in attributes and constant inputs are plan errors, never a trap or a huge
    /// allocation.
    func testHostileSizesAreRejected() {
        let x = t([1, 2, 3, 4], [2, 2])
        let cases: [(String, () throws -> Any)] = [
            (
                "ConstantOfShape",
                { try runNode("ConstantOfShape", inputs: [], constants: ["s": ti([1 << 40, 1 << 40], [2])], nodeInputs: ["s"]) }
            ),
            ("Pad", { try runNode("Pad", inputs: [("x", x)], constants: ["p": ti([0, .max, 0, 0], [4])], nodeInputs: ["x", "p"]) }),
            ("Tile", { try runNode("Tile", inputs: [("x", x)], constants: ["r": ti([.max, 2], [2])], nodeInputs: ["x", "r"]) }),
            (
                "Slice",
                {
                    try runNode(
                        "Slice", inputs: [("x", x)],
                        constants: [
                            "s": ti([0], [1]), "e": ti([2], [1]), "a": ti([0], [1]),
                            "p": ti([.min], [1]),
                        ], nodeInputs: ["x", "s", "e", "a", "p"])
                }
            ),
            (
                "Resize",
                {
                    try runNode(
                        "Resize", inputs: [("x", t([1, 2, 3, 4], [1, 1, 2, 2]))], constants: ["sc": t([1, 1, 1e30, 1], [4])],
                        nodeInputs: ["x", "", "sc"])
                }
            ),
            (
                "Conv",
                {
                    try runNode(
                        "Conv", inputs: [("x", t([Float](repeating: 0, count: 16), [1, 1, 4, 4]))],
                        constants: ["w": t([1], [1, 1, 1, 1])], nodeInputs: ["x", "w"], attributes: ["strides": .is([Int.max, 1])])
                }
            ),
            (
                "Reshape",
                { try runNode("Reshape", inputs: [("x", x)], constants: ["s": ti([.max, .max, -1], [3])], nodeInputs: ["x", "s"]) }
            ),
        ]
        for (op, body) in cases {
            XCTAssertThrowsError(try body(), op) { e in
                guard case RuntimeError.planFailed = e else { return XCTFail("\(op): \(e)") }
            }
        }
        XCTAssertThrowsError(try ExecutionPlan(graph: chain(2), bindings: ["N": .max])) { e in
            XCTAssertTrue("\(e)".contains("too large"), "\(e)")
        }
        XCTAssertThrowsError(try ExecutionPlan(graph: chain(2), bindings: ["N": 1 << 20], options: .init(maxArenaBytes: 1 << 20))) { e in
            XCTAssertTrue("\(e)".contains("maxArenaBytes"), "\(e)")
        }
    }

    private func withOutputs(
        _ plan: ExecutionPlan, _ storage: inout [[UInt8]],
        _ body: ([String: UnsafeMutableRawBufferPointer]) throws -> Void
    ) throws {
        var map: [String: UnsafeMutableRawBufferPointer] = [:]
        var pointers: [UnsafeMutableRawPointer] = []
        for (i, o) in plan.outputs.enumerated() {
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(storage[i].count, 1), alignment: 16)
            pointers.append(p)
            map[o.name] = UnsafeMutableRawBufferPointer(start: p, count: storage[i].count)
        }
        defer { for p in pointers { p.deallocate() } }
        try body(map)
    }
}
