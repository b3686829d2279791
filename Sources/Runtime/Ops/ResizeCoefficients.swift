import Foundation

/// Per-axis source coordinates and interpolation taps for Resize, following the ONNX
/// reference (`onnx/reference/ops/op_resize.py`): a coordinate transformation maps an output
/// index to a source coordinate, then `n` neighbours around it (edge-replicated past the
/// input) are weighted by the mode's coefficients.
struct ResizeAxisSpec {
    var mode: String
    var transform: String
    var rounding: String
    var cubicA: Double
    var excludeOutside: Bool
    var antialias: Bool
    /// ROI start and end for tf_crop_and_resize, in normalized coordinates.
    var roi: (Double, Double)
}

/// One output axis: `taps` source indices and weights per output index; output indices
/// flagged in `extrapolate` take the extrapolation value instead (tf_crop_and_resize).
struct ResizeAxis: Sendable {
    var taps: Int
    var index: [Int]
    var weight: [Float]
    var extrapolate: [Bool]

    var isIdentity: Bool {
        taps == 1 && !extrapolate.contains(true) && weight.allSatisfy { $0 == 1 } && index == Array(0..<index.count)
    }
}

extension ResizeAxisSpec {
    /// The source coordinate of output index `j` for an input of length `n` resized by `scale`
    /// to `outLength` elements.
    func sourceCoordinate(_ j: Int, n: Int, scale: Double, outLength: Int) -> Double {
        let lengthResized = scale * Double(n)
        let x = Double(j)
        switch transform {
        case "asymmetric": return x / scale
        case "align_corners": return lengthResized == 1 ? 0 : x * Double(n - 1) / (lengthResized - 1)
        case "pytorch_half_pixel": return lengthResized == 1 ? -0.5 : (x + 0.5) / scale - 0.5
        case "half_pixel_symmetric":
            let adjustment = Double(outLength) / lengthResized
            let offset = Double(n) / 2 * (1 - adjustment)
            return offset + (x + 0.5) / scale - 0.5
        case "tf_crop_and_resize":
            let span = (roi.1 - roi.0) * Double(n - 1)
            let c = lengthResized == 1 ? span / 2 : x * span / (lengthResized - 1)
            return c + roi.0 * Double(n - 1)
        default: return (x + 0.5) / scale - 0.5
        }
    }

    /// Builds the taps of one axis.
    func axis(n: Int, scale: Double, outLength: Int) -> ResizeAxis {
        var result = ResizeAxis(taps: 1, index: [], weight: [], extrapolate: [])
        result.index.reserveCapacity(outLength)
        for j in 0..<outLength {
            let src = sourceCoordinate(j, n: n, scale: scale, outLength: outLength)
            let outside = transform == "tf_crop_and_resize" && (src < 0 || src > Double(n - 1))
            result.extrapolate.append(outside)
            if mode == "nearest" {
                result.index.append(outside ? 0 : nearest(src, n: n))
                result.weight.append(1)
                continue
            }
            let coeffs = coefficients(src, scale: scale)
            result.taps = coeffs.count
            // The `taps` nearest neighbours of src form one window; ONNX edge-pads the input by
            // ceil(taps / 2), so the window is clamped to that padded range.
            let pad = (coeffs.count + 1) / 2
            var start = Int(src.rounded(.up)) - coeffs.count / 2
            start = Swift.min(Swift.max(start, -pad), n + pad - coeffs.count)
            var w = coeffs
            if excludeOutside {
                for t in w.indices where start + t < 0 || start + t >= n { w[t] = 0 }
                let sum = w.reduce(0, +)
                if sum != 0 { w = w.map { $0 / sum } }
            }
            for t in w.indices {
                result.index.append(Swift.min(Swift.max(start + t, 0), n - 1))
                result.weight.append(Float(w[t]))
            }
        }
        return result
    }

    private func nearest(_ src: Double, n: Int) -> Int {
        let r: Double
        switch rounding {
        case "floor": r = src.rounded(.down)
        case "ceil": r = src.rounded(.up)
        case "round_prefer_ceil": r = src - src.rounded(.down) == 0.5 ? src.rounded(.up) : src.rounded()
        default: r = src - src.rounded(.down) == 0.5 ? src.rounded(.down) : src.rounded()
        }
        return Int(Swift.min(Swift.max(r, 0), Double(Swift.max(n - 1, 0))))
    }

    /// Weights of the window's taps, left to right. `ratio` is in (0, 1]: an integral
    /// coordinate counts as ratio 1 from the pixel on its left, as in the reference.
    func coefficients(_ src: Double, scale: Double) -> [Double] {
        let floor = src.rounded(.down)
        let ratio = src == floor ? 1 : src - floor
        if mode == "linear" {
            guard antialias, scale < 1 else { return [1 - ratio, ratio] }
            let start = Int((-1 / scale).rounded(.down)) + 1
            let footprint = 2 - 2 * start
            let c = (0..<footprint).map { Swift.min(Swift.max(1 - Swift.abs((Double(start + $0) - ratio) * scale), 0), 1) }
            return normalized(c)
        }
        let a = cubicA
        if antialias, scale < 1 {
            let start = Int((-2 / scale).rounded(.down)) + 1
            let end = 2 - start
            return normalized((start..<end).map { cubicKernel(scale * (Double($0) - ratio), a) })
        }
        let r1 = ratio + 1, q = 1 - ratio, q1 = q + 1
        return [
            ((a * r1 - 5 * a) * r1 + 8 * a) * r1 - 4 * a,
            ((a + 2) * ratio - (a + 3)) * ratio * ratio + 1,
            ((a + 2) * q - (a + 3)) * q * q + 1,
            ((a * q1 - 5 * a) * q1 + 8 * a) * q1 - 4 * a,
        ]
    }

    private func cubicKernel(_ x: Double, _ a: Double) -> Double {
        let x = Swift.abs(x), x2 = x * x, x3 = x2 * x
        if x <= 1 { return (a + 2) * x3 - (a + 3) * x2 + 1 }
        if x < 2 { return a * x3 - 5 * a * x2 + 8 * a * x - 4 * a }
        return 0
    }

    private func normalized(_ c: [Double]) -> [Double] {
        let s = c.reduce(0, +)
        return s == 0 ? c : c.map { $0 / s }
    }
}
