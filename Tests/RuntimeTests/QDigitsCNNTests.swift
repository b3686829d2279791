import Foundation
import ModelIR
import Runtime
import XCTest

/// The digits CNN turned into a QDQ model here (per-channel symmetric int8 weights, uint8
/// activations calibrated on the calibration split, int32 biases), then fused by the runtime:
/// every int8 path gives the same bytes, accuracy stays near fp32, and mixed graphs (an fp32
/// Gemm, an fp32 Softmax island) run.
final class QDigitsCNNTests: XCTestCase {
    struct Built {
        var graph: Graph
        var quantizedLogits: String
    }

    /// QDQ form: Q → DQ after the input and after every node output; weights of Conv (and Gemm
    /// unless `gemmInFP32`) through DQ of int8, biases through DQ of int32; Softmax on top.
    func buildQDQ(gemmInFP32: Bool) throws -> Built {
        let model = try Fixtures.importModel("digits_cnn.onnx")
        var g = model.graph
        let calib = try NPYFile.read(Fixtures.url("digits/calibration_x.npy"))
        // Calibrate: every activation's range over the calibration split (fp32 plan).
        var probe = g
        let values = [g.inputs[0].name] + g.nodes.flatMap(\.outputs)
        probe.outputs = values.filter { $0 != g.inputs[0].name }.map { ValueInfo($0, TensorType(.float32, nil)) }
        let plan = try ExecutionPlan(graph: probe, bindings: ["N": calib.shape[0]])
        var ranges = try plan.makeSession().run(inputs: [g.inputs[0].name: calib]).mapValues { t -> (Float, Float) in
            let f = t.floats ?? [0]
            return (min(0, f.min() ?? 0), max(0, f.max() ?? 0))
        }
        let cf = calib.floats ?? [0]
        ranges[g.inputs[0].name] = (min(0, cf.min() ?? 0), max(0, cf.max() ?? 0))
        var scales: [String: Float] = [:]
        var nodes: [Node] = []
        func qdq(_ v: String) -> String {
            let (lo, hi) = ranges[v] ?? (0, 1)
            let s = max((hi - lo) / 255, 1e-6)
            let z = UInt8(min(255, max(0, (-lo / s).rounded())))
            scales[v] = s
            g.initializers["\(v)_s"] = tf([s])
            g.initializers["\(v)_z"] = tu8([z], [])
            nodes.append(Node(name: "\(v)_Q", opType: "QuantizeLinear", inputs: [v, "\(v)_s", "\(v)_z"], outputs: ["\(v)_q"]))
            nodes.append(Node(name: "\(v)_DQ", opType: "DequantizeLinear", inputs: ["\(v)_q", "\(v)_s", "\(v)_z"], outputs: ["\(v)_dq"]))
            return "\(v)_dq"
        }
        var current: [String: String] = [g.inputs[0].name: qdq(g.inputs[0].name)]
        for var node in g.nodes {
            node.inputs = node.inputs.map { current[$0] ?? $0 }
            if node.opType == "Conv" || (node.opType == "Gemm" && !gemmInFP32), let wName = node.input(1), let w = g.initializers[wName],
                let wf = w.floats
            {
                let m = w.shape[0], k = wf.count / m
                var q = [Int8](repeating: 0, count: wf.count), ws = [Float](repeating: 1, count: m)
                for c in 0..<m {
                    let amax = wf[(c * k)..<((c + 1) * k)].map(abs).max() ?? 0
                    ws[c] = max(amax / 127, 1e-8)
                    for i in 0..<k { q[c * k + i] = Int8(max(-127, min(127, (wf[c * k + i] / ws[c]).rounded()))) }
                }
                g.initializers["\(wName)_q"] = ts8(q, w.shape)
                g.initializers["\(wName)_s"] = tf(ws, [m])
                g.initializers["\(wName)_z"] = ts8([Int8](repeating: 0, count: m), [m])
                nodes.append(
                    Node(
                        name: "\(wName)_DQ", opType: "DequantizeLinear", inputs: ["\(wName)_q", "\(wName)_s", "\(wName)_z"],
                        outputs: ["\(wName)_dq"], attributes: ["axis": .int(0)]))
                node.inputs[1] = "\(wName)_dq"
                if let bName = node.input(2), let bf = g.initializers[bName]?.floats {
                    let sx = scales[node.inputs[0].replacingOccurrences(of: "_dq", with: "")] ?? 1
                    let bs = ws.map { $0 * sx }
                    g.initializers["\(bName)_q"] = ts32(bf.indices.map { Int32((bf[$0] / bs[$0]).rounded()) }, [m])
                    g.initializers["\(bName)_s"] = tf(bs, [m])
                    nodes.append(
                        Node(
                            name: "\(bName)_DQ", opType: "DequantizeLinear", inputs: ["\(bName)_q", "\(bName)_s"],
                            outputs: ["\(bName)_dq"], attributes: ["axis": .int(0)]))
                    node.inputs[2] = "\(bName)_dq"
                }
            }
            nodes.append(node)
            for o in node.outputs { current[o] = qdq(o) }
        }
        let logits = g.outputs[0].name
        nodes.append(Node(name: "softmax", opType: "Softmax", inputs: [current[logits] ?? logits], outputs: ["probs"]))
        g.nodes = nodes
        g.valueTypes = [:]
        g.outputs = [ValueInfo("probs", TensorType(.float32, nil)), ValueInfo("\(logits)_q", TensorType(.uint8, nil))]
        return Built(graph: g, quantizedLogits: "\(logits)_q")
    }

    func accuracy(_ probs: Tensor?, labels: Tensor) -> Double {
        let p = probs?.floats ?? [], y = labels.asInt64s ?? []
        let classes = p.count / max(1, y.count)
        var right = 0
        for i in y.indices {
            let row = p[(i * classes)..<((i + 1) * classes)]
            if let best = row.indices.max(by: { row[$0] < row[$1] }), Int64(best - i * classes) == y[i] { right += 1 }
        }
        return Double(right) / Double(max(1, y.count))
    }

    func testQDQDigitsCNNFusesAndEveryPathGivesIdenticalBytes() throws {
        let built = try buildQDQ(gemmInFP32: false)
        var fused = built.graph
        let report = QDQFusion().fuse(&fused)
        let ops = fused.nodes.map(\.qualifiedOpType)
        XCTAssertEqual(ops.filter { $0 == "QLinearConv" }.count, 2, "\(ops)")
        XCTAssertTrue(ops.contains("com.microsoft:QGemm"), "\(ops)")
        XCTAssertTrue(ops.contains("MaxPool") && ops.contains("Flatten"), "selection ops run on int8: \(ops)")
        // Left: the input's Q, the logits' DQ before the fp32 Softmax island.
        XCTAssertEqual(ops.filter { $0 == "QuantizeLinear" }.count, 1, "\(ops)")
        XCTAssertEqual(ops.filter { $0 == "DequantizeLinear" }.count, 1, "\(ops)")
        XCTAssertTrue(report.changed)

        let x = try NPYFile.read(Fixtures.url("digits/test_x.npy")), labels = try NPYFile.read(Fixtures.url("digits/test_y.npy"))
        var outputs: [String: [UInt8]] = [:]
        var accuracies: [String: Double] = [:]
        for path in runnableInt8Paths() {
            let plan = try ExecutionPlan(graph: built.graph, bindings: ["N": x.shape[0]], options: .init(kernels: path))
            let out = try plan.makeSession().run(inputs: ["input": x])
            outputs[plan.int8KernelPathName] = out[built.quantizedLogits]?.uint8s
            accuracies[plan.int8KernelPathName] = accuracy(out["probs"], labels: labels)
        }
        let reference = outputs["reference"]
        XCTAssertNotNil(reference)
        XCTAssertEqual(reference?.count, x.shape[0] * 10)
        for (name, bytes) in outputs { XCTAssertEqual(bytes, reference, "\(name) differs from the reference path") }
        // fp32 accuracy from the manifest is 0.9925; int8 may lose a little.
        for (name, acc) in accuracies { XCTAssertGreaterThanOrEqual(acc, 0.98, "\(name): accuracy \(acc)") }
        print("QDigitsCNN: int8 paths \(outputs.keys.sorted()), identical logits bytes, test accuracy \(accuracies)")
    }

    func testMixedGraphWithGemmLeftInFP32() throws {
        let built = try buildQDQ(gemmInFP32: true)
        var fused = built.graph
        QDQFusion().fuse(&fused)
        let ops = fused.nodes.map(\.qualifiedOpType)
        XCTAssertEqual(ops.filter { $0 == "QLinearConv" }.count, 2)
        XCTAssertTrue(ops.contains("Gemm") && !ops.contains("com.microsoft:QGemm"), "\(ops)")
        let x = try NPYFile.read(Fixtures.url("digits/test_x.npy")), labels = try NPYFile.read(Fixtures.url("digits/test_y.npy"))
        let plan = try ExecutionPlan(graph: built.graph, bindings: ["N": x.shape[0]])
        let out = try plan.makeSession().run(inputs: ["input": x])
        XCTAssertGreaterThanOrEqual(accuracy(out["probs"], labels: labels), 0.98)
    }

    func testPrePackedWeightsAreAcceptedForTheirPathAndRepackedForAnother() throws {
        let built = try buildQDQ(gemmInFP32: false)
        let x = try NPYFile.read(Fixtures.url("digits/test_x.npy"))
        let paths = runnableInt8Paths()
        let coordinator = try ExecutionPlan(graph: built.graph, bindings: ["N": 4], options: .init(kernels: paths[paths.count - 1]))
        let packed = coordinator.packedWeights
        XCTAssertEqual(packed.count, 3, "two convs and the Gemm are packed: \(packed.keys.sorted())")
        var device = built.graph
        for name in packed.keys { device.initializers[name] = nil }
        let batch = try x.sliced(4)
        let expected = try coordinator.makeSession().run(inputs: ["input": batch])[built.quantizedLogits]
        let plan = try ExecutionPlan(
            graph: device, bindings: ["N": 4], options: .init(kernels: paths[paths.count - 1], packedWeights: packed))
        XCTAssertEqual(try plan.makeSession().run(inputs: ["input": batch])[built.quantizedLogits]?.uint8s, expected?.uint8s)
        XCTAssertEqual(plan.copiedPackedWeightBytes, packed.values.reduce(0) { $0 + $1.byteCount }, "owned arrays are copied")
        // Another path (here the reference) unpacks and repacks them: same bytes out.
        let other = try ExecutionPlan(graph: device, bindings: ["N": 4], options: .init(kernels: paths[0], packedWeights: packed))
        XCTAssertEqual(try other.makeSession().run(inputs: ["input": batch])[built.quantizedLogits]?.uint8s, expected?.uint8s)
    }

    /// Issue #4 item 6: weights read through the mapping without copying. Packed weights handed
    /// over in borrowed, 64-byte-aligned storage (what an mmap'd artifact gives) are read in
    /// place — the kernels' pointers are the region's, nothing is copied, the plan's own constant
    /// bytes shrink by exactly their size — and give the same bytes; owned arrays are copied.
    func testBorrowedAlignedPackedWeightsAreReadInPlace() throws {
        let built = try buildQDQ(gemmInFP32: false)
        let x = try NPYFile.read(Fixtures.url("digits/test_x.npy"))
        let path = runnableInt8Paths()[runnableInt8Paths().count - 1]
        let coordinator = try ExecutionPlan(graph: built.graph, bindings: ["N": 2], options: .init(kernels: path))
        let made = coordinator.packedWeights
        let total = made.values.reduce(0) { $0 + $1.byteCount }
        XCTAssertGreaterThan(total, 0)
        var device = built.graph
        for name in made.keys { device.initializers[name] = nil }

        let copying = try ExecutionPlan(graph: device, bindings: ["N": 2], options: .init(kernels: path, packedWeights: made))
        XCTAssertEqual(copying.copiedPackedWeightBytes, total)
        XCTAssertEqual(copying.borrowedWeightBytes, 0)

        var regions: [AlignedRegion] = []
        var borrowed: [String: PackedTensor] = [:]
        for (name, w) in made {
            let region = AlignedRegion(w.storage.bytes)
            regions.append(region)
            borrowed[name] = try PackedTensor(
                layout: w.layout, elementType: w.elementType, shape: w.shape,
                storage: TensorStorage(borrowing: region.buffer, owner: region))
        }
        let inPlace = try ExecutionPlan(graph: device, bindings: ["N": 2], options: .init(kernels: path, packedWeights: borrowed))
        XCTAssertEqual(inPlace.copiedPackedWeightBytes, 0)
        XCTAssertEqual(inPlace.borrowedWeightBytes, total)
        XCTAssertEqual(inPlace.constantBytes, copying.constantBytes - total)

        let batch = try x.sliced(2)
        let expected = try coordinator.makeSession().run(inputs: ["input": batch])[built.quantizedLogits]?.uint8s
        XCTAssertNotNil(expected)
        XCTAssertEqual(try inPlace.makeSession().run(inputs: ["input": batch])[built.quantizedLogits]?.uint8s, expected)
        // The kernels read the regions: scribbling over one changes the result.
        if let region = regions.first, let base = region.buffer.baseAddress, region.buffer.count > 64 {
            _ = UnsafeMutableRawPointer(mutating: base + 64).initializeMemory(
                as: UInt8.self, repeating: 0x7F, count: region.buffer.count - 64)
            XCTAssertNotEqual(try inPlace.makeSession().run(inputs: ["input": batch])[built.quantizedLogits]?.uint8s, expected)
        }
    }
}

/// 64-byte-aligned bytes the test owns, standing in for an mmap'd artifact region.
final class AlignedRegion: @unchecked Sendable {
    // Sendable proof: written once in init (and deliberately by the test above), read by plans.
    let buffer: UnsafeRawBufferPointer

    init(_ bytes: [UInt8]) {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { if let base = $0.baseAddress { p.copyMemory(from: base, byteCount: bytes.count) } }
        buffer = UnsafeRawBufferPointer(start: p, count: bytes.count)
    }

    deinit { buffer.baseAddress.map { UnsafeMutableRawPointer(mutating: $0).deallocate() } }
}

extension Tensor {
    /// The first `n` items along axis 0.
    func sliced(_ n: Int) throws -> Tensor {
        let per = byteCount / Swift.max(1, shape[0])
        return try Tensor(elementType: elementType, shape: [n] + shape.dropFirst(), bytes: Array(bytes[0..<(n * per)]))
    }
}
