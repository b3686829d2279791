import CKernels
import Glibc
import TestSupport
import XCTest

/// The channels-last 1×1 GEMM (gemm_nhwc): every path that has one against the reference, byte
/// for byte (including the untouched bytes between M and ldc), and the reference against the
/// NCHW gemm of every path on the transposed activations, so both entries compute one contract.
/// In a Q8GemmCase here, `activations` is A (N rows of K bytes, row stride ldb ≥ K) and the
/// output is N rows of M bytes (row stride ldc ≥ M).
final class Q8GemmNHWCTests: XCTestCase {
    static let u8Zeros: [Int32] = [0, 1, 100, 128, 254, 255]
    static let s8Zeros: [Int32] = [-128, -127, -3, 0, 5, 127]

    /// Every runnable table with a gemm_nhwc entry, reference first.
    static func nhwcTables() -> [UnsafePointer<flotilla_q8_kernels>] {
        runnableQ8Tables().filter { $0.pointee.gemm_nhwc != nil }
    }

    /// A random problem: weights random or pinned at ±max (127, or 63 in 7-bit mode), or at
    /// ±64 (the largest that pushes the AVX2 pack to its widening layout); activations random or
    /// at 0x00/0xFF/0x80; bias none, small or near ±2³⁰; multipliers typical, ≥ 1/4 (shift < 2:
    /// the 64-bit requant form), tiny, mixed, or per channel with a single large one; clamps
    /// full or narrowed (fused Relu ranges).
    static func randomCase(M: Int, N: Int, K: Int, using rng: inout SplitMix64) -> Q8GemmCase {
        var c = Q8GemmCase(M: M, N: N, K: K)
        c.xType = Bool.random(using: &rng) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8
        c.yType = Bool.random(using: &rng) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8
        c.xZero = (c.xType == FLOTILLA_Q8_U8 ? u8Zeros : s8Zeros).randomElement(using: &rng) ?? 0
        c.yZero = (c.yType == FLOTILLA_Q8_U8 ? u8Zeros : s8Zeros).randomElement(using: &rng) ?? 0
        c.sevenBit = Int.random(in: 0..<4, using: &rng) == 0
        let wmax: Int8 = c.sevenBit ? 63 : 127
        c.ldw = K + Int.random(in: 0...3, using: &rng)
        c.ldb = K + (Bool.random(using: &rng) ? 0 : Int.random(in: 1...9, using: &rng))
        c.ldc = M + (Bool.random(using: &rng) ? 0 : Int.random(in: 1...9, using: &rng))
        let wPattern = Int.random(in: 0..<8, using: &rng)
        c.weights = (0..<(M * c.ldw)).map { _ in
            switch wPattern {
            case 0: return wmax
            case 1: return -wmax
            case 2: return Bool.random(using: &rng) ? 63 : -63
            case 3: return c.sevenBit ? 63 : (Bool.random(using: &rng) ? 64 : -64)
            default: return Int8.random(in: -wmax...wmax, using: &rng)
            }
        }
        let aPattern = Int.random(in: 0..<7, using: &rng)
        c.activations = (0..<(N * c.ldb)).map { _ in
            switch aPattern {
            case 0: return 0
            case 1: return 255
            case 2: return 0x80
            default: return UInt8.random(in: 0...255, using: &rng)
            }
        }
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: c.bias = nil
        case 1: c.bias = (0..<M).map { _ in Int32.random(in: -100_000...100_000, using: &rng) }
        default: c.bias = (0..<M).map { _ in Int32.random(in: -(1 << 30)...(1 << 30), using: &rng) }
        }
        let mode = Int.random(in: 0..<5, using: &rng)
        c.perChannel = mode == 4 || Bool.random(using: &rng)
        c.multiplier = []
        c.shift = []
        let large = Int.random(in: 0..<M, using: &rng)
        for m in 0..<M {
            let real: Double
            switch mode {
            case 0: real = Double.random(in: 1e-4...1e-2, using: &rng)
            case 1: real = Double.random(in: 0.25...200, using: &rng)
            case 2: real = Double.random(in: 1e-11...2e-11, using: &rng)
            case 3: real = Double.random(in: 1e-9...4, using: &rng)
            default: real = m == large ? 0.3 : Double.random(in: 1e-4...1e-2, using: &rng)
            }
            var q: Int32 = 0, s: Int32 = 0
            XCTAssertEqual(flotilla_q8_quantize_multiplier(real, &q, &s), FLOTILLA_Q8_OK)
            c.multiplier.append(q)
            c.shift.append(s)
        }
        let tmin: Int32 = c.yType == FLOTILLA_Q8_U8 ? 0 : -128, tmax: Int32 = c.yType == FLOTILLA_Q8_U8 ? 255 : 127
        c.qmin = tmin
        c.qmax = tmax
        switch Int.random(in: 0..<4, using: &rng) {
        case 0:
            c.qmin = Int32.random(in: tmin...tmax, using: &rng)
            c.qmax = Int32.random(in: c.qmin...tmax, using: &rng)
        case 1: c.qmin = c.yZero  // Relu
        default: break
        }
        return c
    }

    /// Packs `c` with `packer` (default: the table) and runs the table's gemm_nhwc on A at `a`
    /// (default: c.activations); the output starts as 0xA5 so untouched bytes are compared too.
    static func run(
        _ table: UnsafePointer<flotilla_q8_kernels>, _ c: Q8GemmCase,
        packedBy packer: UnsafePointer<flotilla_q8_kernels>? = nil, a: UnsafeRawPointer? = nil
    ) -> (status: flotilla_q8_status, output: [UInt8]) {
        let t = table.pointee, p = (packer ?? table).pointee
        guard let packSize = p.gemm_pack_size, let pack = p.gemm_pack, let wsSize = t.gemm_nhwc_workspace_size,
            let gemm = t.gemm_nhwc
        else {
            XCTFail("\(q8PathName(table)): no gemm_nhwc")
            return (FLOTILLA_Q8_EMPTY, [])
        }
        var packed = [UInt8](repeating: 0, count: packSize(c.M, c.K))
        var workspace = [UInt8](repeating: 0, count: max(1, wsSize(c.N, c.K)))
        var output = [UInt8](repeating: 0xA5, count: max(1, c.N * c.ldc))
        var params = flotilla_q8_gemm_pack_params(
            M: c.M, K: c.K, x_type: c.xType, x_zero_point: c.xZero, seven_bit: c.sevenBit)
        let packStatus = c.weights.withUnsafeBufferPointer { w in
            packed.withUnsafeMutableBytes { out in
                guard let bias = c.bias else { return pack(&params, w.baseAddress, c.ldw, nil, out.baseAddress) }
                return bias.withUnsafeBufferPointer { pack(&params, w.baseAddress, c.ldw, $0.baseAddress, out.baseAddress) }
            }
        }
        if packStatus != FLOTILLA_Q8_OK { return (packStatus, output) }
        let status = c.multiplier.withUnsafeBufferPointer { m in
            c.shift.withUnsafeBufferPointer { s in
                var rq = flotilla_q8_requant(
                    multiplier: m.baseAddress, shift: s.baseAddress, per_channel: c.perChannel, type: c.yType,
                    zero_point: c.yZero, qmin: c.qmin, qmax: c.qmax)
                return packed.withUnsafeBytes { pk in
                    c.activations.withUnsafeBytes { own in
                        output.withUnsafeMutableBytes { o in
                            workspace.withUnsafeMutableBytes { ws in
                                gemm(
                                    c.M, c.N, c.K, pk.baseAddress, a ?? own.baseAddress, c.ldb, &rq, o.baseAddress,
                                    c.ldc, ws.baseAddress)
                            }
                        }
                    }
                }
            }
        }
        return (status, output)
    }

    /// Every optimized gemm_nhwc gives the reference's bytes for `c`.
    func assertNHWCIdentical(_ c: Q8GemmCase, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let reference = Self.run(q8Reference(), c)
        XCTAssertEqual(reference.status, FLOTILLA_Q8_OK, label, file: file, line: line)
        for table in Self.nhwcTables() where q8PathName(table) != "reference" {
            let got = Self.run(table, c)
            let name = q8PathName(table)
            XCTAssertEqual(got.status, FLOTILLA_Q8_OK, "\(name) \(label)", file: file, line: line)
            if got.output != reference.output {
                let at = got.output.indices.first { $0 < reference.output.count && got.output[$0] != reference.output[$0] } ?? 0
                XCTFail(
                    "\(name) \(label): first difference at pixel \(at / c.ldc) channel \(at % c.ldc): "
                        + "\(got.output[at]) vs reference \(reference.output[at])", file: file, line: line)
            }
        }
    }

    func label(_ c: Q8GemmCase) -> String {
        "M=\(c.M) N=\(c.N) K=\(c.K) lda=\(c.ldb) ldc=\(c.ldc) 7bit=\(c.sevenBit) x=\(c.xType.rawValue)/\(c.xZero) "
            + "y=\(c.yType.rawValue)/\(c.yZero) [\(c.qmin), \(c.qmax)] perChannel=\(c.perChannel) "
            + "shifts=\(Set(c.shift).sorted().prefix(4))"
    }

    func testTablesHaveChannelsLastGemm() {
        let names = Self.nhwcTables().map(q8PathName)
        XCTAssertTrue(names.contains("reference"))
        #if arch(x86_64)
            let cpu = flotilla_cpu_features_detect()
            if cpu.avx2 && cpu.fma { XCTAssertTrue(names.contains("avx2"), "\(names)") }
            if cpu.avx512vnni && cpu.avx512bw && cpu.avx512vl { XCTAssertTrue(names.contains("avx512vnni"), "\(names)") }
        #endif
    }

    /// Random M, N, K in 1…300 (M off the 8/16/64 grids, K off the 4 grid, N = 1 and off the
    /// 6-pixel tile), padded and dense strides.
    func testRandomShapesAreBitExact() {
        var rng = SplitMix64(seed: 0x4E_48_57_43)
        let dims = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 24, 31, 33, 47, 48, 63, 64, 65, 100, 129, 300]
        for _ in 0..<220 {
            let M = dims.randomElement(using: &rng) ?? 1
            let N = dims.randomElement(using: &rng) ?? 1
            let K = Bool.random(using: &rng) ? (dims.randomElement(using: &rng) ?? 1) : Int.random(in: 1...300, using: &rng)
            let c = Self.randomCase(M: M, N: N, K: K, using: &rng)
            assertNHWCIdentical(c, label(c))
        }
    }

    /// The MobileNetV2-shaped 1×1 convs (M × N × K = Cout × pixels × Cin).
    func testMobileNetShapesAreBitExact() {
        var rng = SplitMix64(seed: 0x6D_6F_62)
        let shapes: [(Int, Int, Int)] = [
            (48, 2304, 8), (8, 2304, 16), (48, 576, 8), (8, 576, 48), (96, 144, 16), (16, 144, 96),
            (192, 36, 32), (32, 36, 192), (144, 36, 24), (24, 36, 144), (336, 9, 56), (56, 9, 336),
            (112, 9, 336), (1280, 9, 112),
        ]
        for (M, N, K) in shapes {
            for _ in 0..<2 {
                let c = Self.randomCase(M: M, N: N, K: K, using: &rng)
                assertNHWCIdentical(c, label(c))
            }
        }
    }

    /// Every K from 1 to 13 (each K mod 4, the masked last quad) and the largest K, extreme
    /// products: the accumulators the contract allows at their limits.
    func testKTailsAndExtremeAccumulators() {
        var rng = SplitMix64(seed: 0x7A_11)
        for K in 1...13 {
            for M in [1, 8, 17, 72] {
                let c = Self.randomCase(M: M, N: Int.random(in: 1...14, using: &rng), K: K, using: &rng)
                assertNHWCIdentical(c, label(c))
            }
        }
        let K = Int(FLOTILLA_Q8_MAX_K)
        for (xType, xZero, byte, w) in [
            (FLOTILLA_Q8_U8, Int32(0), UInt8(255), Int8(127)),
            (FLOTILLA_Q8_U8, Int32(255), UInt8(0), Int8(127)),
            (FLOTILLA_Q8_S8, Int32(127), UInt8(0x80), Int8(-127)),
        ] {
            var c = Q8GemmCase(M: 18, N: 3, K: K, xType: xType, xZero: xZero)
            c.weights = [Int8](repeating: w, count: 18 * K)
            c.ldw = K
            c.activations = [UInt8](repeating: byte, count: 3 * K)
            c.ldb = K
            c.ldc = 19
            c.bias = (0..<18).map { $0 % 2 == 0 ? 1 << 30 : -(1 << 30) }
            c.multiplier = [1 << 30]
            c.shift = [20]
            assertNHWCIdentical(c, "extreme \(label(c))")
        }
    }

    /// Shifts below 2 in one lane of an otherwise ordinary block (the 64-bit requant form for
    /// the block), and shifts at both ends of the contract's range.
    func testRequantShiftsAtTheEdges() {
        var rng = SplitMix64(seed: 0x5_41F7)
        let shiftPairs: [[Int32]] = [[-30, 31], [1, 10], [0, 12], [-1, 2], [2, 31], [-30, 2]]
        for shifts in shiftPairs {
            for M in [5, 16, 40, 70] {
                var c = Self.randomCase(M: M, N: Int.random(in: 1...20, using: &rng), K: 37, using: &rng)
                c.perChannel = true
                c.multiplier = (0..<M).map { _ in Int32.random(in: (1 << 30)...Int32.max, using: &rng) }
                c.shift = (0..<M).map { m in m == M / 2 ? shifts[0] : shifts[1] }
                assertNHWCIdentical(c, label(c))
            }
        }
    }

    /// The AVX2 pack picks its layout from the weights: both layouts give the reference's bytes.
    func testBothAVX2WeightLayoutsAreBitExact() throws {
        guard let avx2 = flotilla_q8_kernels_named("avx2"), let packSize = avx2.pointee.gemm_pack_size,
            let pack = avx2.pointee.gemm_pack
        else { throw XCTSkip("avx2 does not run here") }
        var rng = SplitMix64(seed: 0xA7_2)
        for (w, layout) in [(Int8(63), UInt32(FLOTILLA_Q8_LAYOUT_AVX2_MADDUBS)), (64, UInt32(FLOTILLA_Q8_LAYOUT_AVX2_WIDEN))] {
            for (M, N, K) in [(8, 50, 16), (24, 36, 144), (13, 7, 30), (56, 9, 21)] {
                var c = Self.randomCase(M: M, N: N, K: K, using: &rng)
                c.sevenBit = false
                c.weights = (0..<(M * c.ldw)).map { i in i % 3 == 0 ? w : (i % 3 == 1 ? -w : Int8.random(in: -63...63, using: &rng)) }
                var packed = [UInt8](repeating: 0, count: packSize(M, K))
                var params = flotilla_q8_gemm_pack_params(
                    M: M, K: K, x_type: c.xType, x_zero_point: c.xZero, seven_bit: false)
                let status = c.weights.withUnsafeBufferPointer { wp in
                    packed.withUnsafeMutableBytes { pack(&params, wp.baseAddress, c.ldw, nil, $0.baseAddress) }
                }
                XCTAssertEqual(status, FLOTILLA_Q8_OK)
                let got = packed.withUnsafeBytes { $0.load(fromByteOffset: 4, as: UInt32.self) }
                XCTAssertEqual(got, layout, "pack layout for |w| = \(w)")
                assertNHWCIdentical(c, "w=\(w) \(label(c))")
            }
        }
    }

    /// gemm_nhwc(A) = transpose(gemm(Aᵀ)) on every path, for the reference's gemm_nhwc: the NCHW
    /// and the channels-last entries compute the same contract.
    func testChannelsLastEqualsNCHWGemmOnTransposedActivations() {
        var rng = SplitMix64(seed: 0x7_2A45)
        for _ in 0..<40 {
            let M = Int.random(in: 1...70, using: &rng), N = Int.random(in: 1...60, using: &rng)
            let K = Int.random(in: 1...90, using: &rng)
            var c = Self.randomCase(M: M, N: N, K: K, using: &rng)
            c.ldc = M
            let nhwc = Self.run(q8Reference(), c)
            XCTAssertEqual(nhwc.status, FLOTILLA_Q8_OK)
            var t = c  // K × N activations, M × N output
            t.ldb = N
            t.ldc = N
            t.activations = (0..<(K * N)).map { i in c.activations[(i % N) * c.ldb + i / N] }
            for table in runnableQ8Tables() {
                let nchw = runQ8Gemm(table, t)
                XCTAssertEqual(nchw.status, FLOTILLA_Q8_OK)
                let transposed = (0..<(N * M)).map { i in nchw.output[(i % M) * N + i / M] }
                XCTAssertEqual(transposed, nhwc.output, "\(q8PathName(table)) gemm vs reference gemm_nhwc \(label(c))")
            }
        }
    }

    /// A ends on a page followed by an unreadable page, K mod 4 ≠ 0: every path reads nothing
    /// past A + (N − 1)·lda + K (a read there would kill the test process).
    func testNothingPastTheEndOfAIsRead() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard let base = mmap(nil, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
            base != UnsafeMutableRawPointer(bitPattern: -1)
        else { throw XCTSkip("mmap failed") }
        defer { munmap(base, 2 * page) }
        XCTAssertEqual(mprotect(base + page, page, PROT_NONE), 0)
        var rng = SplitMix64(seed: 0xE_4D)
        for (M, N, K, lda) in [(16, 7, 13, 13), (64, 6, 5, 9), (8, 1, 3, 3), (72, 13, 37, 40), (1280, 9, 113, 113)] {
            var c = Self.randomCase(M: M, N: N, K: K, using: &rng)
            c.ldb = lda
            c.activations = (0..<(N * lda)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let span = (N - 1) * lda + K  // the bytes A may be read from
            let a = base + page - span
            c.activations.withUnsafeBytes { src in
                if let from = src.baseAddress { a.copyMemory(from: from, byteCount: span) }
            }
            let reference = Self.run(q8Reference(), c, a: UnsafeRawPointer(a))
            XCTAssertEqual(reference.status, FLOTILLA_Q8_OK)
            XCTAssertEqual(reference.output, Self.run(q8Reference(), c).output)
            for table in Self.nhwcTables() {
                let got = Self.run(table, c, a: UnsafeRawPointer(a))
                XCTAssertEqual(got.status, FLOTILLA_Q8_OK)
                XCTAssertEqual(got.output, reference.output, "\(q8PathName(table)) \(label(c))")
            }
        }
    }

    /// Another path's pack is refused with nothing written; N = 0 writes nothing.
    func testPackMismatchAndEmptyN() {
        var rng = SplitMix64(seed: 0x9A_C4)
        let c = Self.randomCase(M: 20, N: 5, K: 12, using: &rng)
        let tables = Self.nhwcTables()
        for table in tables {
            for packer in runnableQ8Tables() where q8PathName(packer) != q8PathName(table) {
                let got = Self.run(table, c, packedBy: packer)
                XCTAssertEqual(got.status, FLOTILLA_Q8_PACK_MISMATCH, "\(q8PathName(table)) with \(q8PathName(packer))'s pack")
                XCTAssertEqual(got.output, [UInt8](repeating: 0xA5, count: c.N * c.ldc))
            }
            var empty = c
            empty.N = 0
            let got = Self.run(table, empty)
            XCTAssertEqual(got.status, FLOTILLA_Q8_OK, q8PathName(table))
            XCTAssertEqual(got.output, [0xA5], q8PathName(table))
        }
    }
}
