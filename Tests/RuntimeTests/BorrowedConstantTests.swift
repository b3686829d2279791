import ModelIR
import XCTest

@testable import Runtime

/// fp32 constants in borrowed, 64-byte-aligned storage (what an mmap'd artifact hands over)
/// are read where they lie instead of copied into the plan; constant Gemm weights are packed
/// straight from such storage. Same outputs as owned arrays.
final class BorrowedConstantTests: XCTestCase {
    private func seededFloats(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int(state >> 33) % 2001 - 1000) / 1000
        }
    }

    private func bytes(_ floats: [Float]) -> [UInt8] { floats.withUnsafeBytes { Array($0) } }

    func testBorrowedAlignedFloatConstantIsReadInPlace() throws {
        let n = 300
        let c = seededFloats(n, seed: 7), x = seededFloats(n, seed: 8)
        func graph(_ storage: TensorStorage) throws -> Graph {
            Graph(
                name: "add", nodes: [Node(name: "add", opType: "Add", inputs: ["x", "c"], outputs: ["y"])],
                inputs: [ValueInfo("x", TensorType(.float32, Shape([1, n])))],
                outputs: [ValueInfo("y", TensorType(.float32, Shape([1, n])))],
                initializers: ["c": try Tensor(elementType: .float32, shape: [1, n], storage: storage)])
        }
        let owned = try ExecutionPlan(graph: try graph(TensorStorage(bytes: bytes(c))))
        XCTAssertEqual(owned.borrowedWeightBytes, 0)
        XCTAssertGreaterThanOrEqual(owned.constantBytes, n * 4)

        let region = AlignedRegion(bytes(c))
        let inPlace = try ExecutionPlan(graph: try graph(TensorStorage(borrowing: region.buffer, owner: region)))
        XCTAssertEqual(inPlace.borrowedWeightBytes, n * 4)
        XCTAssertEqual(inPlace.constantBytes, owned.constantBytes - n * 4)

        let input = try Tensor(floats: x, shape: [1, n])
        let expected = try owned.makeSession().run(inputs: ["x": input])["y"]?.floats
        XCTAssertEqual(expected, zip(x, c).map { $0 + $1 })
        XCTAssertEqual(try inPlace.makeSession().run(inputs: ["x": input])["y"]?.floats, expected)
        // The kernel reads the region itself: overwriting it changes the result.
        if let base = region.buffer.baseAddress {
            UnsafeMutableRawPointer(mutating: base).storeBytes(of: Float(100), as: Float.self)
        }
        let after = try inPlace.makeSession().run(inputs: ["x": input])["y"]?.floats
        XCTAssertEqual(after?.first, x[0] + 100)
        XCTAssertEqual(after?.dropFirst().map { $0 }, expected?.dropFirst().map { $0 })
    }

    /// A constant Gemm B (with alpha folded in) packed from borrowed bytes, and from bytes that
    /// are not even 4-byte aligned, gives exactly what packing from an owned array gives.
    func testGemmPacksConstantWeightsFromBorrowedBytes() throws {
        let k = 37, n = 53
        let w = seededFloats(k * n, seed: 3), b = seededFloats(n, seed: 4), x = seededFloats(2 * k, seed: 5)
        func graph(_ storage: TensorStorage, transB: Bool) throws -> Graph {
            var node = Node(name: "fc", opType: "Gemm", inputs: ["x", "w", "b"], outputs: ["y"])
            node.attributes["alpha"] = .float(0.75)
            node.attributes["transB"] = .int(transB ? 1 : 0)
            return Graph(
                name: "gemm", nodes: [node], inputs: [ValueInfo("x", TensorType(.float32, Shape([2, k])))],
                outputs: [ValueInfo("y", TensorType(.float32, Shape([2, n])))],
                initializers: [
                    "w": try Tensor(elementType: .float32, shape: transB ? [n, k] : [k, n], storage: storage),
                    "b": try Tensor(floats: b, shape: [n]),
                ])
        }
        let input = try Tensor(floats: x, shape: [2, k])
        for transB in [false, true] {
            let expected = try ExecutionPlan(graph: try graph(TensorStorage(bytes: bytes(w)), transB: transB))
                .makeSession().run(inputs: ["x": input])["y"]?.floats
            XCTAssertEqual(expected?.count, 2 * n)
            // Reference: y = 0.75 · x·B + b, within float rounding.
            for r in 0..<2 {
                for j in 0..<n {
                    var s: Float = 0
                    for i in 0..<k { s += x[r * k + i] * (transB ? w[j * k + i] : w[i * n + j]) }
                    XCTAssertEqual(expected?[r * n + j] ?? .nan, 0.75 * s + b[j], accuracy: 1e-4)
                }
            }
            let aligned = AlignedRegion(bytes(w))
            let fromRegion = try ExecutionPlan(
                graph: try graph(TensorStorage(borrowing: aligned.buffer, owner: aligned), transB: transB))
            XCTAssertEqual(try fromRegion.makeSession().run(inputs: ["x": input])["y"]?.floats, expected)
            let shifted = AlignedRegion([0] + bytes(w))
            let odd = UnsafeRawBufferPointer(rebasing: shifted.buffer[1...])
            let fromOdd = try ExecutionPlan(graph: try graph(TensorStorage(borrowing: odd, owner: shifted), transB: transB))
            XCTAssertEqual(try fromOdd.makeSession().run(inputs: ["x": input])["y"]?.floats, expected)
        }
    }
}
