import CKernels
import TestSupport
import XCTest

/// `flotilla_q8_gemm_packer_named` packs every int8 layout on any host, byte for byte what the
/// path's own table packs where this CPU runs it; `flotilla_q8_gemm_unpack_weights` gives the
/// weights back from every layout, so packing them again reproduces the buffer.
final class Q8WeightPackTests: XCTestCase {
    let paths = ["reference", "avx2", "avx512vnni", "neon", "neondot"]
    let shapes = [(1, 1), (3, 5), (4, 4), (7, 9), (8, 33), (13, 64), (33, 3)]

    func pack(_ path: String, m: Int, k: Int, w: [Int8], bias: [Int32]?, type: flotilla_q8_type, zero: Int32) -> [UInt8]? {
        guard let packer = flotilla_q8_gemm_packer_named(path), let size = packer.pointee.gemm_pack_size,
            let pack = packer.pointee.gemm_pack
        else { return nil }
        var out = [UInt8](repeating: 0xEE, count: size(m, k))
        var params = flotilla_q8_gemm_pack_params(M: m, K: k, x_type: type, x_zero_point: zero, seven_bit: false)
        let status = out.withUnsafeMutableBytes { o in
            w.withUnsafeBufferPointer { wb in
                if let bias { return bias.withUnsafeBufferPointer { pack(&params, wb.baseAddress, k, $0.baseAddress, o.baseAddress) } }
                return pack(&params, wb.baseAddress, k, nil, o.baseAddress)
            }
        }
        return status == FLOTILLA_Q8_OK ? out : nil
    }

    func testEveryLayoutPacksAnywhereAndUnpacksExactly() throws {
        var rng = SplitMix64(seed: 0x0B8A)
        XCTAssertNil(flotilla_q8_gemm_packer_named("avx512"))
        for path in paths {
            XCTAssertNotNil(flotilla_q8_gemm_packer_named(path), path)
            for (m, k) in shapes {
                // Full-range weights, and 7-bit ones (AVX2 then picks its maddubs layout).
                for limit in [127, 63] {
                    let w = (0..<(m * k)).map { _ in Int8(Int.random(in: -limit...limit, using: &rng)) }
                    let bias = (0..<m).map { _ in Int32.random(in: -100_000...100_000, using: &rng) }
                    for (type, zero) in [(FLOTILLA_Q8_U8, Int32(131)), (FLOTILLA_Q8_S8, Int32(-7))] {
                        let packed = try XCTUnwrap(pack(path, m: m, k: k, w: w, bias: bias, type: type, zero: zero), path)
                        var back = [Int8](repeating: 0, count: m * k)
                        let status = packed.withUnsafeBytes { p in
                            back.withUnsafeMutableBufferPointer {
                                flotilla_q8_gemm_unpack_weights(p.baseAddress, packed.count, $0.baseAddress)
                            }
                        }
                        XCTAssertEqual(status, FLOTILLA_Q8_OK, "\(path) \(m)x\(k)")
                        XCTAssertEqual(back, w, "\(path) \(m)x\(k) |w| ≤ \(limit)")
                        XCTAssertEqual(pack(path, m: m, k: k, w: back, bias: bias, type: type, zero: zero), packed)
                        // One byte short, or a damaged magic: refused, nothing read past the end.
                        let short = packed.withUnsafeBytes { p in
                            back.withUnsafeMutableBufferPointer {
                                flotilla_q8_gemm_unpack_weights(p.baseAddress, packed.count - 1, $0.baseAddress)
                            }
                        }
                        XCTAssertEqual(short, FLOTILLA_Q8_PACK_MISMATCH, "\(path) \(m)x\(k)")
                        var damaged = packed
                        damaged[0] ^= 0xFF
                        let bad = damaged.withUnsafeBytes { p in
                            back.withUnsafeMutableBufferPointer {
                                flotilla_q8_gemm_unpack_weights(p.baseAddress, damaged.count, $0.baseAddress)
                            }
                        }
                        XCTAssertEqual(bad, FLOTILLA_Q8_PACK_MISMATCH)
                    }
                }
            }
        }
    }

    func testPackerMatchesTheRunnableTablesOwnPack() throws {
        var rng = SplitMix64(seed: 0x51DE)
        var checked: [String] = []
        for path in paths {
            guard let table = flotilla_q8_kernels_named(path), let size = table.pointee.gemm_pack_size,
                let pack = table.pointee.gemm_pack
            else { continue }
            checked.append(path)
            for (m, k) in shapes {
                let w = (0..<(m * k)).map { _ in Int8(Int.random(in: -127...127, using: &rng)) }
                let bias = (0..<m).map { _ in Int32.random(in: -5000...5000, using: &rng) }
                var own = [UInt8](repeating: 0xEE, count: size(m, k))
                var params = flotilla_q8_gemm_pack_params(M: m, K: k, x_type: FLOTILLA_Q8_U8, x_zero_point: 3, seven_bit: false)
                let status = own.withUnsafeMutableBytes { o in
                    w.withUnsafeBufferPointer { wb in
                        bias.withUnsafeBufferPointer { pack(&params, wb.baseAddress, k, $0.baseAddress, o.baseAddress) }
                    }
                }
                XCTAssertEqual(status, FLOTILLA_Q8_OK)
                XCTAssertEqual(self.pack(path, m: m, k: k, w: w, bias: bias, type: FLOTILLA_Q8_U8, zero: 3), own, "\(path) \(m)x\(k)")
            }
        }
        XCTAssertTrue(checked.contains("reference"))
    }
}
