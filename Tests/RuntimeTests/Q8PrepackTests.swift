import Foundation
import ModelIR
import Runtime
import TestSupport
import XCTest

/// Issue #4 item 4 for int8: `Q8GemmPrepack` packs a quantized model's GEMM weights for a named
/// int8 path on any host; a plan given them reads them (its own path) or repacks them (another
/// path, the reference included) and gives the bytes of a plan that packed itself.
final class Q8PrepackTests: XCTestCase {
    /// The runtime's reading of the shared PackedTensor's layout id: only well-formed int8 GEMM
    /// ids name a path (fp32 and foreign layouts do not).
    func testLayoutIdsNameTheirInt8Path() {
        XCTAssertEqual(PackedTensor.path(ofLayout: "flotilla.q8.gemm.avx512vnni.2"), "avx512vnni")
        XCTAssertEqual(PackedTensor.path(ofLayout: "flotilla.q8.gemm.neondot.0"), "neondot")
        for foreign in [
            "flotilla.f32.gemm.avx2.16", "flotilla.q8.gemm.avx2", "flotilla.q8.gemm.avx2.x", "flotilla.q8.gemm.avx2.-1",
            "flotilla.q8.gemm.avx2.1.2", "qs8_gemm_avx512vnni_v1", "",
        ] {
            XCTAssertNil(PackedTensor.path(ofLayout: foreign), foreign)
        }
    }

    func fixture(_ model: String) throws -> (model: Model, inputs: [String: Tensor], bindings: [String: Int]) {
        guard let e = try QFixtureTests.entries().first(where: { $0.model.hasSuffix(model) }) else {
            throw XCTSkip("no quantized fixture \(model) in manifest.json")
        }
        let m = try Fixtures.importModel(e.model)
        var inputs: [String: Tensor] = [:]
        for (name, file) in e.inputs { inputs[name] = try NPYFile.read(Fixtures.url(file)) }
        return (m, inputs, Fixtures.bindings(m.graph, inputs))
    }

    func outputs(_ plan: ExecutionPlan, _ inputs: [String: Tensor]) throws -> [String: [UInt8]] {
        try plan.makeSession().run(inputs: inputs).mapValues { $0.bytes }
    }

    func check(_ file: String, expectPacked minimum: Int) throws {
        let f = try fixture(file)
        let hostPaths = runnableInt8Paths()
        var reference: [String: [UInt8]] = [:]
        for path in hostPaths {
            let own = try ExecutionPlan(model: f.model, bindings: f.bindings, options: .init(kernels: path, threads: 1))
            let expected = try outputs(own, f.inputs)
            if reference.isEmpty { reference = expected }
            XCTAssertEqual(expected, reference, "\(file): \(path) differs from the reference")
            let name = own.int8KernelPathName
            let (stripped, packed) = try Q8GemmPrepack.pack(f.model, path: name, bindings: f.bindings)
            XCTAssertGreaterThanOrEqual(packed.count, minimum, "\(file) \(name): \(packed.keys.sorted())")
            // The portable packer writes what the path's own table wrote, and the same bytes every time.
            for (weight, w) in packed {
                XCTAssertEqual(w.storage.bytes, own.packedWeights[weight]?.storage.bytes, "\(file) \(name) \(weight)")
                XCTAssertTrue(w.layout.hasPrefix("flotilla.q8.gemm.\(name)."), w.layout)
                XCTAssertNil(stripped.graph.initializers[weight])
            }
            let again = try Q8GemmPrepack.pack(f.model, path: name, bindings: f.bindings).packedWeights
            XCTAssertEqual(again.mapValues { $0.storage.bytes }, packed.mapValues { $0.storage.bytes })
            let device = try ExecutionPlan(
                model: stripped, bindings: f.bindings, options: .init(kernels: path, packedWeights: packed, threads: 1))
            XCTAssertEqual(device.packedWeights.count, 0, "\(file) \(name): the device plan packed nothing itself")
            XCTAssertEqual(try outputs(device, f.inputs), expected, "\(file) \(name)")
        }
        // Artifacts for every class, built on this host, planned by each runnable path (other
        // layouts repacked): the reference reproduces any class's bytes.
        for target in Q8GemmPrepack.paths {
            let (stripped, packed) = try Q8GemmPrepack.pack(f.model, path: target, bindings: f.bindings)
            XCTAssertGreaterThanOrEqual(packed.count, minimum, "\(file) \(target)")
            for path in hostPaths {
                let plan = try ExecutionPlan(
                    model: stripped, bindings: f.bindings, options: .init(kernels: path, packedWeights: packed, threads: 1))
                XCTAssertEqual(try outputs(plan, f.inputs), reference, "\(file): \(target) artifact on \(path)")
                if plan.int8KernelPathName != target {
                    XCTAssertEqual(plan.copiedPackedWeightBytes, packed.values.reduce(0) { $0 + $1.byteCount })
                }
            }
        }
    }

    func testMobileNetQDQPrepackedForEveryPathGivesIdenticalBytes() throws {
        try check("mobilenetv2_shaped.qdq.u8s8.perchannel.onnx", expectPacked: 10)
    }

    func testDigitsQDQPrepackedForEveryPathGivesIdenticalBytes() throws {
        try check("digits_cnn.qdq.u8s8.perchannel.onnx", expectPacked: 3)
    }

    func testDigitsQOperatorPrepacked() throws {
        try check("digits_cnn.qoperator.u8s8.onnx", expectPacked: 3)
    }

    func testUnknownPathAndMismatchedWeightAreNamed() throws {
        let f = try fixture("digits_cnn.qdq.u8s8.perchannel.onnx")
        XCTAssertThrowsError(try Q8GemmPrepack.pack(f.model, path: "avx512", bindings: f.bindings)) { e in
            XCTAssertTrue("\(e)".contains("'avx512'") && "\(e)".contains("avx512vnni"), "\(e)")
        }
        let (stripped, packed) = try Q8GemmPrepack.pack(f.model, path: "neon", bindings: f.bindings)
        // Two weights swapped: each header names the other's M and K; the error names the weight.
        let names = packed.keys.sorted()
        guard names.count >= 2 else { return XCTFail("expected two packed weights") }
        var swapped = packed
        let first = try XCTUnwrap(packed[names[0]]), second = try XCTUnwrap(packed[names[1]])
        swapped[names[0]] = try PackedTensor(
            layout: second.layout, elementType: first.elementType, shape: first.shape, storage: second.storage)
        XCTAssertThrowsError(
            try ExecutionPlan(model: stripped, bindings: f.bindings, options: .init(kernels: .reference, packedWeights: swapped))
        ) { e in
            XCTAssertTrue("\(e)".contains("'\(names[0])'") && "\(e)".contains("does not match"), "\(e)")
        }
    }
}
