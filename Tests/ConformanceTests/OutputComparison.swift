import Foundation

/// numpy.testing.assert_allclose, which ONNX's backend runner applies to every output: same
/// dtype and shape, then elementwise |actual − expected| ≤ atol + rtol·|expected| computed in
/// float64, with NaN equal to NaN and an infinity equal only to the same infinity.
enum OutputComparison {
    /// nil when `actual` matches `expected`; otherwise what differs, for the failure list.
    static func mismatch(name: String, actual: StoredTensor, expected: StoredTensor, rtol: Double, atol: Double) -> String? {
        guard actual.dataType == expected.dataType else {
            return "output '\(name)' is \(actual.dataType.name), expected \(expected.dataType.name)"
        }
        guard actual.shape == expected.shape else {
            return "output '\(name)' has shape \(actual.shape), expected \(expected.shape)"
        }
        if expected.dataType == .string {
            guard let i = expected.strings.indices.first(where: { actual.strings[$0] != expected.strings[$0] }) else { return nil }
            return "output '\(name)': first different string at \(multiIndex(i, expected.shape)): "
                + "got \"\(actual.strings[i])\", expected \"\(expected.strings[i])\""
        }
        guard let a = actual.doubles, let b = expected.doubles, a.count == b.count else {
            return "output '\(name)': \(expected.dataType.name) values cannot be compared numerically"
        }
        var bad = 0
        var first: Int?
        var maxAbs = 0.0, maxRel = 0.0
        for i in 0..<b.count where !close(a[i], b[i], rtol: rtol, atol: atol) {
            bad += 1
            if first == nil { first = i }
            let abs = (a[i] - b[i]).magnitude
            if abs.isNaN || abs > maxAbs { maxAbs = abs.isNaN ? .nan : abs }
            let rel = b[i] == 0 ? Double.infinity : abs / b[i].magnitude
            if rel.isNaN || rel > maxRel { maxRel = rel.isNaN ? .nan : rel }
        }
        guard let i = first else { return nil }
        return "output '\(name)': \(bad) of \(b.count) elements differ (max abs err \(short(maxAbs)), max rel err \(short(maxRel)), "
            + "rtol \(short(rtol)), atol \(short(atol))); first at \(multiIndex(i, expected.shape)): "
            + "got \(short(a[i])), expected \(short(b[i]))"
    }

    static func close(_ a: Double, _ b: Double, rtol: Double, atol: Double) -> Bool {
        if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
        if a.isInfinite || b.isInfinite { return a == b }
        return (a - b).magnitude <= atol + rtol * b.magnitude
    }

    /// Row-major flat index → [i, j, k...].
    static func multiIndex(_ flat: Int, _ shape: [Int]) -> [Int] {
        var rest = flat
        var out = [Int](repeating: 0, count: shape.count)
        for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] > 0 {
            out[d] = rest % shape[d]
            rest /= shape[d]
        }
        return out
    }

    static func short(_ v: Double) -> String {
        if !v.isFinite { return "\(v)" }
        if v == v.rounded(), v.magnitude < 1e15 { return String(Int64(v)) }
        return String(format: "%.6g", v)
    }
}
