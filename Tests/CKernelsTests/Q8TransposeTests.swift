import CKernels
import TestSupport
import XCTest

/// transpose8 (the NCHW ↔ NHWC byte move): every path equals the definition
/// dst[c·ldd + r] = src[r·lds + c] and leaves every other destination byte as it was.
final class Q8TransposeTests: XCTestCase {
    /// Transposes rows × cols of a seeded source with guard bytes before, between (strides past
    /// the width) and after both regions; checks the result byte for byte against the definition.
    private func check(
        _ table: UnsafePointer<flotilla_q8_kernels>, rows: Int, cols: Int, lds: Int, ldd: Int,
        using rng: inout SplitMix64, file: StaticString = #filePath, line: UInt = #line
    ) {
        let guardBytes = 40
        let src = (0..<(rows * lds + 2 * guardBytes)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var dst = [UInt8](repeating: 0xA5, count: cols * ldd + 2 * guardBytes)
        var expected = dst
        for r in 0..<rows {
            for c in 0..<cols { expected[guardBytes + c * ldd + r] = src[guardBytes + r * lds + c] }
        }
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                guard let sp = s.baseAddress, let dp = d.baseAddress else { return }
                table.pointee.transpose8(rows, cols, sp + guardBytes, lds, dp + guardBytes, ldd)
            }
        }
        XCTAssertEqual(dst, expected, "\(q8PathName(table)) \(rows)×\(cols) lds \(lds) ldd \(ldd)", file: file, line: line)
    }

    func testEdgeSizesAndStrides() {
        var rng = SplitMix64(seed: 0x7A_05E8)
        let sizes = [1, 2, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 80, 129]
        for table in runnableQ8Tables() {
            for rows in sizes {
                for cols in sizes {
                    let lds = cols + (Bool.random(using: &rng) ? 0 : Int.random(in: 1...33, using: &rng))
                    let ldd = rows + (Bool.random(using: &rng) ? 0 : Int.random(in: 1...33, using: &rng))
                    check(table, rows: rows, cols: cols, lds: lds, ldd: ldd, using: &rng)
                }
            }
        }
    }

    /// The region boundaries MobileNet has (stem output, head) and random shapes.
    func testMobileNetBoundariesAndRandomShapes() {
        var rng = SplitMix64(seed: 0x1280_0009)
        for table in runnableQ8Tables() {
            for (rows, cols) in [(16, 2304), (2304, 16), (1280, 9), (9, 1280), (1, 500), (500, 1)] {
                check(table, rows: rows, cols: cols, lds: cols, ldd: rows, using: &rng)
                check(table, rows: rows, cols: cols, lds: cols + 3, ldd: rows + 5, using: &rng)
            }
            for _ in 0..<40 {
                let rows = Int.random(in: 1...300, using: &rng), cols = Int.random(in: 1...300, using: &rng)
                check(
                    table, rows: rows, cols: cols, lds: cols + Int.random(in: 0...20, using: &rng),
                    ldd: rows + Int.random(in: 0...20, using: &rng), using: &rng)
            }
        }
    }
}
