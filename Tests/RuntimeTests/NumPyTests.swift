import Foundation
import ModelIR
import Runtime
import TestSupport
import XCTest

/// .npy/.npz reading and writing, and the runtime-backed constant evaluator.
final class NumPyTests: XCTestCase {
    func temp(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent(
            "flotilla-runtime-\(ProcessInfo.processInfo.processIdentifier)-\(name)")
    }

    func testRoundTripsEveryStoredType() throws {
        let tensors: [Tensor] = [
            t([1.5, -2, 3.25], [3]), ti([1, -2, .max, .min], [2, 2]), try Tensor(bools: [true, false], shape: [2, 1]),
            try Tensor(int32s: [7], shape: []), try Tensor(uint8s: [1, 2, 255], shape: [3]),
            try Tensor(doubles: [0.1, 1e300], shape: [2]),
        ]
        for (i, tensor) in tensors.enumerated() {
            let url = temp("rt\(i).npy")
            defer { try? FileManager.default.removeItem(at: url) }
            try NPYFile.write(tensor, to: url)
            XCTAssertEqual(try NPYFile.read(url), tensor)
            // The header is a multiple of 64 bytes as numpy writes it.
            let bytes = try Data(contentsOf: url)
            XCTAssertEqual((Int(bytes[8]) | Int(bytes[9]) << 8 + 10) % 64, 0)
        }
    }

    func testReadsNumpyWrittenFixtureAndBigEndian() throws {
        let x = try NPYFile.read(Fixtures.url("digits/test_x.npy"))
        XCTAssertEqual(x.elementType, .float32)
        XCTAssertEqual(x.shape, [400, 1, 8, 8])
        let y = try NPYFile.read(Fixtures.url("digits/test_y.npy"))
        XCTAssertEqual(y.elementType, .int64)
        // Big-endian int32 [1, 256], as np.array([1, 256], '>i4') saves it.
        var header = "{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }"
        header += String(repeating: " ", count: 128 - 10 - header.count - 1) + "\n"
        let bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count), 0] + Array(header.utf8) + [0, 0, 0, 1, 0, 0, 1, 0]
        XCTAssertEqual(try NPYFile.decode(bytes).int32s, [1, 256])
    }

    func testRejectsBadFilesWithReasons() {
        XCTAssertThrowsError(try NPYFile.decode(Array("not numpy".utf8), path: "x.npy")) { e in
            XCTAssertTrue("\(e)".contains("x.npy") && "\(e)".contains("magic"), "\(e)")
        }
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"
        header += String(repeating: " ", count: 128 - 10 - header.count - 1) + "\n"
        let truncated: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count), 0] + Array(header.utf8) + [0, 0]
        XCTAssertThrowsError(try NPYFile.decode(truncated)) { e in XCTAssertTrue("\(e)".contains("needs 16 bytes"), "\(e)") }
        // dtype '<O4' (an object array) instead of '<f4'.
        let at = (0..<(truncated.count - 1)).first { truncated[$0] == UInt8(ascii: "f") && truncated[$0 + 1] == UInt8(ascii: "4") } ?? 0
        var object = truncated
        object[at] = UInt8(ascii: "O")
        XCTAssertThrowsError(try NPYFile.decode(object)) { e in XCTAssertTrue("\(e)".contains("not supported"), "\(e)") }
    }

    func testNPZRoundTripAndCorruptionIsCaught() throws {
        let tensors = ["a": t([1, 2], [2]), "b": ti([3], [1])]
        let url = temp("t.npz")
        defer { try? FileManager.default.removeItem(at: url) }
        try NPZFile.write(tensors, to: url)
        XCTAssertEqual(try NPZFile.read(url), tensors)
        // A flipped payload byte fails the member's CRC-32.
        var bytes = try NPZFile.encode(tensors)
        bytes[100] ^= 0x55
        XCTAssertThrowsError(try NPZFile.decode(bytes)) { e in XCTAssertTrue("\(e)".contains("CRC-32"), "\(e)") }
    }

    /// A deflated archive written by Python's zipfile (zlib): member a is int8 [3000] with a
    /// skewed distribution (a dynamic-Huffman block), b is int64 [0, 1, 4, 9, 16] (fixed codes).
    static let deflatedNPZ = [
        "UEsDBBQAAAAIAMlZfV3Jf7QrhQQAADgMAAAFAAAAYS5ucHmdVklvI1UQrqqJ02NnseMlTJyO8Ra37XQcW9z4AdxAXDhwQhETBBJi",
        "UIK4MPMr+MPU+l7PzI2npN1vq/rqq63//e6Hb7//EeFv+Kd6+/Ty83P19bR6/9uhqqfVL++e/3p+/OOnd89vn2T9m8ffX554/eXX",
        "xz+feL7+ar/f15t6+mH6f0cHEBDhVYt/bwiBgP94wYb8kqzFxAaf0MUZwoxfl0i80gU4i2P8jyK3Q+QzlkKg1ya2IhtLkdUWBPxy",
        "Z2qGfkHvKDj042jrqBoV40jWB3Kr7WoRWygDCF0EvgF8neCTKcYaYKCCCXeuSowauaFGgagtoU8TyHbJKVgXLivwxOiO0U3jxxLJ",
        "Ed/IdNIAkO5gP66icmSvmMRnJ5hqhYjhBbGyDXAwRTJTzOHAcKNisr1zne1ksQxBW6B1Fmmug1MjRcZYNqgPyiqPOW8fudeQwpZT",
        "/nmQAx5CcZWwwR7LQYYAnWwdIIZrTMEwvO43Mrsy9pj4UJEjtSlFamWgtyaQkiRZLoAumm6kwNDwoXss/HHFr3PdOAEcI1zDYia7",
        "X0QwQoorkbniWSfzTrAIlxJzXlLTwR4FmQcADlPapjjF1jEj6HrA+oWEGRahujmW58KGOGEhudhSzxWspy+ZmnwMjvWgWDRZLDs1",
        "beYbWZ3CNjxH6NYefaoPXECSC3gRqfMxPcmN/Lt3CoJC+RGPzYTypeycF4QryGyhxNlKXiS44dZ2TjMFApI6g3uo45J6ko6D5+Rj",
        "fUwc9MLJmCk+IzrqB3lk9skMYs1nKVAiivQ64rXbzDe3ieWlpWIUu50FyZAiqHlaOG+OmVHjzTVPKjDveWmaupE9zDTyyyv+313Z",
        "/CSimqlKQVJdSpkDT2UVNjUm0ER6DdgKghFftOyhyxpP3Qz0nFCUQpQEQZe1F9CgoD8yX1pJxHUKCt9fA9yOnDdZ6VBObIrHUWYV",
        "Q+0ttDnrCj/YzgF/lvKPx/Q4XGJ9phQT1UKc2023/8D/FyK4ltOXFoVcFLopjjxF0VvclQpFyXwcJ89/VPNNga1wcdhi6ci0m3rD",
        "+dLinU9Jf2uboyBRiAL8LJLC+lJmh+DuYDPuRBU9UKnBSQ28aUSke+8UIAVEgg7AG1BFsXss0T0OcyYU1oS0aJiW1Wb8Udc6gdoo",
        "QE9MFiajyAspqlKpexTuaTBGURsTF6atDu27VLu9hGh5x80tr3X0yMo+Wbzv8KMGY93rmWztHV2KEYg2SWAYFolqHT0wvHEjdSN9",
        "3tta7ybuhGvruIEzRcMiBqJjKJ8fLUtPuk99LeLMeWZu7IPnBFP/1jq3QnKnuiOU2suAy42469UkfP8gJqmEVYrrz1oFWC3RYtoR",
        "ZJTbEUX8Uc99NfJl/RhAEZzlkuddlpzyHP0AeTxy/F7n2jAfBuk7Qb9ygbK0aYRShEsog43jL8M/PdTPRvcjWP/3klwq015k3WTO",
        "I11402gKERZS2OyDiSCHa9jliHJeUDSOxMpFOk/pe1pFlipvWCHcMQV6rGh8EPJn1dVrLeSqgyILyUmR2Z4nXgr+A1BLAwQUAAAA",
        "CADJWX1dZqDiFVEAAACoAAAABQAAAGIubnB5m+wX6hsQychQxlCtnpJanFykbqWgbpNpoa6joJ6WX1RSlJgXn1+UkgoSd0vMKU4F",
        "ihdnJBakAvkapjqaOgq1ChQALgYoYITSLFCaE0oLQGkAUEsBAhQDFAAAAAgAyVl9Xcl/tCuFBAAAOAwAAAUAAAAAAAAAAAAAAIAB",
        "AAAAAGEubnB5UEsBAhQDFAAAAAgAyVl9XWag4hVRAAAAqAAAAAUAAAAAAAAAAAAAAIABqAQAAGIubnB5UEsFBgAAAAACAAIAZgAA",
        "ABwFAAAAAA==",
    ].joined()

    func testReadsDeflatedNPZ() throws {
        let bytes = try XCTUnwrap(Data(base64Encoded: Self.deflatedNPZ))
        let arrays = try NPZFile.decode([UInt8](bytes))
        let a = try XCTUnwrap(arrays["a"]?.int8s)
        XCTAssertEqual(a.count, 3000)
        XCTAssertEqual(Array(a.prefix(10)), [0, 1, 0, 1, 1, 0, 3, 5, 0, 1])
        XCTAssertEqual(a.reduce(0) { $0 + Int($1) }, 8221)
        XCTAssertEqual(arrays["b"]?.int64s, [0, 1, 4, 9, 16])
        // Corrupt compressed bytes: an error, never a trap or an oversized output.
        var rng = SplitMix64(seed: 99)
        for _ in 0..<300 {
            var damaged = [UInt8](bytes)
            for _ in 0..<3 { damaged[40 + Int(rng.next() % 1200)] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
            _ = try? NPZFile.decode(damaged)
        }
    }

    func testConstantFoldingThroughTheRuntime() throws {
        // Sqrt and Transpose are not in ModelIR's built-in evaluator; the runtime folds them.
        let g = Graph(
            nodes: [
                Node(name: "s", opType: "Sqrt", inputs: ["w"], outputs: ["ws"]),
                Node(name: "t", opType: "Transpose", inputs: ["ws"], outputs: ["wt"]),
                Node(name: "m", opType: "MatMul", inputs: ["x", "wt"], outputs: ["y"]),
            ], inputs: [ValueInfo("x", TensorType(.float32, [1, 2]))], outputs: [ValueInfo("y", TensorType(.float32, nil))],
            initializers: ["w": t([1, 4, 9, 16], [2, 2])])
        var model = Model(graph: g)
        let reports = try PassPipeline([ConstantFolding(evaluator: RuntimeConstantEvaluator())]).run(on: &model)
        XCTAssertEqual(reports.first?.removedNodes, ["s", "t"])
        XCTAssertEqual(model.graph.initializers["wt"]?.floats, [1, 3, 2, 4])
        // And an op the runtime does not know is declined, not an error.
        XCTAssertNil(
            try RuntimeConstantEvaluator().evaluate(
                Node(name: "q", opType: "Unknown", inputs: ["w"], outputs: ["o"]),
                inputs: [t([1], [1])]))
    }
}
