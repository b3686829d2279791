import CKernels
import TestSupport
import XCTest

/// Add with hand-made operand rescales, every optimized path against the reference: each operand
/// shift in [-12, 31] (the x86 paths rescale operands in 32-bit lanes split at s = 31 + shift − 20
/// ≤ 16, and keep the 64-bit form below 31 + shift = 21), multipliers 0 and at both ends of
/// [2³⁰, 2³¹), zero points at their type's ends, inputs all 0x00, 0xFF, 0x80 or random.
final class Q8AddShiftSweepTests: XCTestCase {
    func testEveryOperandShiftIsBitExact() {
        var rng = SplitMix64(seed: 0xADD_5417)
        let multipliers: [Int32] = [0, 1 << 30, Int32.max, 1_518_500_250]
        func type() -> flotilla_q8_type { Bool.random(using: &rng) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8 }
        func range(_ t: flotilla_q8_type) -> ClosedRange<Int32> { t == FLOTILLA_Q8_U8 ? 0...255 : -128...127 }
        for round in 0..<10 {
            for shift in Int32(-12)...31 {
                var p = flotilla_q8_binary_params()
                p.a_type = type()
                p.b_type = type()
                p.y_type = type()
                p.a_zero_point = Bool.random(using: &rng) ? range(p.a_type).lowerBound : range(p.a_type).upperBound
                p.b_zero_point = Int32.random(in: range(p.b_type), using: &rng)
                p.y_zero_point = Int32.random(in: range(p.y_type), using: &rng)
                p.a_multiplier = multipliers.randomElement(using: &rng) ?? 0
                p.a_shift = shift
                p.b_multiplier = multipliers.randomElement(using: &rng) ?? 0
                p.b_shift = Int32.random(in: -12...31, using: &rng)
                p.y_multiplier = Int32.random(in: (1 << 30)...Int32.max, using: &rng)
                p.y_shift = Int32.random(in: -5...31, using: &rng)
                p.qmin = range(p.y_type).lowerBound
                p.qmax = range(p.y_type).upperBound
                let n = Int.random(in: 1...300, using: &rng)
                let pattern = Int.random(in: 0..<5, using: &rng)
                func bytes() -> [UInt8] {
                    (0..<n).map { _ in
                        switch pattern {
                        case 0: return 0
                        case 1: return 0xFF
                        case 2: return 0x80
                        default: return UInt8.random(in: 0...255, using: &rng)
                        }
                    }
                }
                let a = bytes(), b = bytes()
                var expected = [UInt8](repeating: 0x5A, count: n + 1)
                q8Reference().pointee.add(n, a, b, &expected, &p)
                for table in optimizedQ8Tables() {
                    var got = [UInt8](repeating: 0x5A, count: n + 1)
                    table.pointee.add(n, a, b, &got, &p)
                    XCTAssertEqual(got, expected, "\(q8PathName(table)) round \(round) a_shift \(p.a_shift) b_shift \(p.b_shift)")
                }
            }
        }
    }
}
