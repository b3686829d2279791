import CKernels
import XCTest

/// Every fp32 kernel table this machine can run, reference first.
func runnableTables() -> [UnsafePointer<flotilla_f32_kernels>] {
    let names: [String] = ["reference", "avx2", "avx512"]
    return names.compactMap { name in flotilla_f32_kernels_named(name) }
}

/// The optimized tables (everything but the reference) this machine can run.
func optimizedTables() -> [UnsafePointer<flotilla_f32_kernels>] {
    runnableTables().filter { pathName($0) != "reference" }
}

func referenceTable() -> UnsafePointer<flotilla_f32_kernels> {
    // The reference path exists on every CPU; its absence is a build error, not a test input.
    guard let table = flotilla_f32_kernels_named("reference") else {
        XCTFail("flotilla_f32_kernels_named(\"reference\") returned NULL")
        return flotilla_f32_kernels_get()
    }
    return table
}

func pathName(_ table: UnsafePointer<flotilla_f32_kernels>) -> String {
    String(cString: table.pointee.name)
}

/// Unit roundoff of Float (2⁻²⁴): the largest relative error of one rounded operation.
let unitRoundoff = Double(Float.ulpOfOne) / 2

/// Error budget of a sum of `terms` products, optimized path against reference, each element:
/// both are recursive float sums of the same `terms` values in some order, so each is within
/// γ(terms) · Σ|term| of the exact sum (Higham, Accuracy and Stability, §3.1) and their
/// difference within 2 · terms · u · Σ|term|. The reference computes Σ|term| from |inputs|.
func sumErrorBudget(terms: Int, absoluteSum: Float) -> Double {
    2 * Double(terms) * unitRoundoff * Double(absoluteSum) * 1.0001
}

/// The clamp ranges the tests cycle through: none, Relu, Relu6-like, and a tight symmetric one.
let clampRanges: [(Float, Float)] = [(-.infinity, .infinity), (0, .infinity), (0, 6), (-0.5, 0.5)]

/// Runs `body` with a pointer to `array`'s storage, or NULL when `array` is nil.
func withOptionalPointer<R>(_ array: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress) }
}
