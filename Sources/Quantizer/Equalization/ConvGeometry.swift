import ModelIR

/// Strides, dilations and leading pads of a 1-D/2-D Conv, resolved from its attributes
/// (explicit pads or auto_pad), for walking the taps each output position reads.
struct ConvGeometry {
    let kernel: [Int]
    let strides: [Int]
    let dilations: [Int]
    let padsBegin: [Int]
    let padsEnd: [Int]
    let autoPad: String

    init?(_ node: Node, kernel k: [Int]) {
        let rank = k.count
        kernel = k
        strides = node.ints("strides") ?? [Int](repeating: 1, count: rank)
        dilations = node.ints("dilations") ?? [Int](repeating: 1, count: rank)
        let pads = node.ints("pads") ?? [Int](repeating: 0, count: 2 * rank)
        autoPad = node.string("auto_pad") ?? "NOTSET"
        guard strides.count == rank, dilations.count == rank, pads.count == 2 * rank,
            strides.allSatisfy({ $0 > 0 }), dilations.allSatisfy({ $0 > 0 }), pads.allSatisfy({ $0 >= 0 }),
            ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(autoPad)
        else { return nil }
        padsBegin = Array(pads[..<rank])
        padsEnd = Array(pads[rank...])
    }

    /// (pad before, output size) along one axis of input size `n`.
    func axis(_ a: Int, size n: Int) -> (Int, Int) {
        let span = (kernel[a] - 1) * dilations[a] + 1
        switch autoPad {
        case "VALID": return (0, n >= span ? (n - span) / strides[a] + 1 : 0)
        case "SAME_UPPER", "SAME_LOWER":
            let out = (n + strides[a] - 1) / strides[a]
            let total = Swift.max((out - 1) * strides[a] + span - n, 0)
            return (autoPad == "SAME_UPPER" ? total / 2 : total - total / 2, out)
        default:
            let padded = n + padsBegin[a] + padsEnd[a]
            return (padsBegin[a], padded >= span ? (padded - span) / strides[a] + 1 : 0)
        }
    }

    /// Adds, per (channel, tap), the sum over images and output positions of the input pixel
    /// that tap reads (padding reads 0) to `sums` [channels × kernel taps]; returns the number
    /// of (image, output position) pairs summed.
    func accumulatePatchSums(_ x: [Float], batch: Int, channels: Int, spatial: [Int], into sums: inout [Double]) -> Int {
        let h = spatial[0], w = spatial.count > 1 ? spatial[1] : 1
        let kh = kernel[0], kw = kernel.count > 1 ? kernel[1] : 1
        let (padT, oh) = axis(0, size: h)
        let (padL, ow) = kernel.count > 1 ? axis(1, size: w) : (0, 1)
        let sh = strides[0], sw = strides.count > 1 ? strides[1] : 1
        let dh = dilations[0], dw = dilations.count > 1 ? dilations[1] : 1
        for b in 0..<batch {
            for c in 0..<channels {
                let plane = (b * channels + c) * h * w
                for ky in 0..<kh {
                    for kx in 0..<kw {
                        var s = 0.0
                        for oy in 0..<oh {
                            let iy = oy * sh - padT + ky * dh
                            guard iy >= 0, iy < h else { continue }
                            let row = plane + iy * w
                            for ox in 0..<ow {
                                let ix = ox * sw - padL + kx * dw
                                if ix >= 0, ix < w { s += Double(x[row + ix]) }
                            }
                        }
                        sums[(c * kh + ky) * kw + kx] += s
                    }
                }
            }
        }
        return batch * oh * ow
    }
}
