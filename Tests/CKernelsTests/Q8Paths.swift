import CKernels
import XCTest

/// Every int8 kernel table this machine can run, reference first.
func runnableQ8Tables() -> [UnsafePointer<flotilla_q8_kernels>] {
    let names: [String] = ["reference", "avx2", "avx512vnni", "neon", "neondot"]
    return names.compactMap { name in flotilla_q8_kernels_named(name) }
}

/// The optimized int8 tables (everything but the reference) this machine can run.
func optimizedQ8Tables() -> [UnsafePointer<flotilla_q8_kernels>] {
    runnableQ8Tables().filter { q8PathName($0) != "reference" }
}

func q8Reference() -> UnsafePointer<flotilla_q8_kernels> {
    // The reference exists on every CPU; its absence is a build error, not a test input.
    guard let table = flotilla_q8_kernels_named("reference") else {
        XCTFail("flotilla_q8_kernels_named(\"reference\") returned NULL")
        return flotilla_q8_kernels_get()
    }
    return table
}

func q8PathName(_ table: UnsafePointer<flotilla_q8_kernels>) -> String {
    String(cString: table.pointee.name)
}

/// One int8 GEMM problem: weights M×K (row stride ldw), activations K×N (ldb), output ldc.
struct Q8GemmCase {
    var M = 1, N = 1, K = 1
    var xType = FLOTILLA_Q8_U8, xZero: Int32 = 0, sevenBit = false
    var weights: [Int8] = [0], ldw = 1
    var activations: [UInt8] = [0], ldb = 1
    var bias: [Int32]? = nil
    var multiplier: [Int32] = [1 << 30], shift: [Int32] = [0], perChannel = false
    var yType = FLOTILLA_Q8_U8, yZero: Int32 = 0, qmin: Int32 = 0, qmax: Int32 = 255
    var ldc = 1
}

/// Packs and runs `c` on `table`; the output buffer starts filled with 0xA5 so bytes the kernel
/// must not touch (between N and ldc) are compared too.
func runQ8Gemm(
    _ table: UnsafePointer<flotilla_q8_kernels>, _ c: Q8GemmCase,
    packedBy packer: UnsafePointer<flotilla_q8_kernels>? = nil
)
    -> (status: flotilla_q8_status, output: [UInt8])
{
    let t = table.pointee, p = (packer ?? table).pointee
    guard let packSize = p.gemm_pack_size, let pack = p.gemm_pack, let wsSize = t.gemm_workspace_size,
        let gemm = t.gemm
    else {
        XCTFail("\(q8PathName(table)): incomplete table")
        return (FLOTILLA_Q8_EMPTY, [])
    }
    var packed = [UInt8](repeating: 0, count: packSize(c.M, c.K))
    var workspace = [UInt8](repeating: 0, count: max(1, wsSize(c.N, c.K)))
    var output = [UInt8](repeating: 0xA5, count: c.M * c.ldc)
    var params = flotilla_q8_gemm_pack_params(
        M: c.M, K: c.K, x_type: c.xType, x_zero_point: c.xZero,
        seven_bit: c.sevenBit)
    let packStatus = c.weights.withUnsafeBufferPointer { w in
        packed.withUnsafeMutableBytes { out in
            if let bias = c.bias {
                return bias.withUnsafeBufferPointer { pack(&params, w.baseAddress, c.ldw, $0.baseAddress, out.baseAddress) }
            }
            return pack(&params, w.baseAddress, c.ldw, nil, out.baseAddress)
        }
    }
    if packStatus != FLOTILLA_Q8_OK { return (packStatus, output) }
    let status = c.multiplier.withUnsafeBufferPointer { m in
        c.shift.withUnsafeBufferPointer { s in
            var rq = flotilla_q8_requant(
                multiplier: m.baseAddress, shift: s.baseAddress,
                per_channel: c.perChannel, type: c.yType, zero_point: c.yZero,
                qmin: c.qmin, qmax: c.qmax)
            return packed.withUnsafeBytes { pk in
                c.activations.withUnsafeBytes { b in
                    output.withUnsafeMutableBytes { o in
                        workspace.withUnsafeMutableBytes { ws in
                            gemm(
                                c.M, c.N, c.K, pk.baseAddress, b.baseAddress, c.ldb, &rq, o.baseAddress,
                                c.ldc, ws.baseAddress)
                        }
                    }
                }
            }
        }
    }
    return (status, output)
}

extension XCTestCase {
    /// Every optimized path's GEMM of `c` succeeds and gives the reference's bytes.
    func assertIdentical(_ c: Q8GemmCase, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
        let reference = runQ8Gemm(q8Reference(), c)
        XCTAssertEqual(reference.status, FLOTILLA_Q8_OK, label, file: file, line: line)
        for table in optimizedQ8Tables() {
            let got = runQ8Gemm(table, c)
            XCTAssertEqual(got.status, FLOTILLA_Q8_OK, "\(q8PathName(table)) \(label)", file: file, line: line)
            XCTAssertEqual(got.output, reference.output, "\(q8PathName(table)) \(label)", file: file, line: line)
        }
    }
}
