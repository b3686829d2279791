import ModelIR

/// Kernel window attributes shared by Conv, ConvTranspose and the pools, resolved for one
/// 2-D (or 1-D, as H = 1) input: kernel, strides, dilations and the four pads (explicit or
/// from `auto_pad`).
struct SpatialWindow {
    var kernel: [Int]
    var strides: [Int]
    var dilations: [Int]
    /// [top, left] and [bottom, right] (1-D inputs have one entry each, mapped to W).
    var padBegin: [Int]
    var padEnd: [Int]

    /// Resolves the attributes for spatial input sizes `input` (1 or 2 dims).
    static func resolve(_ ctx: NodePlanContext, input: [Int], kernel: [Int], ceilMode: Bool = false) throws -> SpatialWindow {
        let r = input.count
        guard r == 1 || r == 2 else {
            throw ctx.fail(
                "\(r)-D spatial inputs are not supported; only 1-D and 2-D (NCW, NCHW)", r >= 3 ? .unsupportedRank(r + 2) : .invalid)
        }
        guard kernel.count == r, kernel.allSatisfy({ $0 > 0 }) else {
            throw ctx.fail("kernel_shape \(kernel) must have \(r) positive entries")
        }
        let strides = ctx.ints("strides") ?? [Int](repeating: 1, count: r)
        let dilations = ctx.ints("dilations") ?? [Int](repeating: 1, count: r)
        guard strides.count == r, strides.allSatisfy({ $0 > 0 }) else {
            throw ctx.fail("strides \(strides) must have \(r) positive entries")
        }
        guard dilations.count == r, dilations.allSatisfy({ $0 > 0 }) else {
            throw ctx.fail("dilations \(dilations) must have \(r) positive entries")
        }
        let pads = ctx.ints("pads") ?? []
        guard (kernel + strides + dilations + pads + input).allSatisfy({ (-maxGeometryValue...maxGeometryValue).contains($0) }) else {
            throw ctx.fail("kernel, strides, dilations, pads and input sizes must be at most \(maxGeometryValue)")
        }
        var w = SpatialWindow(
            kernel: kernel, strides: strides, dilations: dilations,
            padBegin: [Int](repeating: 0, count: r), padEnd: [Int](repeating: 0, count: r))
        let autoPad = ctx.string("auto_pad", "NOTSET")
        switch autoPad {
        case "NOTSET":
            let pads = ctx.ints("pads") ?? [Int](repeating: 0, count: 2 * r)
            guard pads.count == 2 * r, pads.allSatisfy({ $0 >= 0 }) else {
                throw ctx.fail("pads \(pads) must have \(2 * r) non-negative entries (all begins, then all ends)")
            }
            w.padBegin = Array(pads[0..<r])
            w.padEnd = Array(pads[r...])
        case "VALID":
            break
        case "SAME_UPPER", "SAME_LOWER":
            for i in 0..<r {
                let out = (input[i] + strides[i] - 1) / strides[i]
                let total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - input[i])
                let small = total / 2
                w.padBegin[i] = autoPad == "SAME_UPPER" ? small : total - small
                w.padEnd[i] = total - w.padBegin[i]
            }
        default:
            throw ctx.fail("auto_pad '\(autoPad)' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID")
        }
        return w
    }

    /// Output size along spatial axis `i`, floor or ceil rounding (ceil: the last window must
    /// start inside the input or its begin padding, as ONNX Runtime and PyTorch do).
    func outputSize(_ i: Int, input: Int, ceilMode: Bool) -> Int {
        let span = (kernel[i] - 1) * dilations[i] + 1
        let padded = input + padBegin[i] + padEnd[i]
        guard padded >= span else { return 0 }
        var out = ceilMode ? (padded - span + strides[i] - 1) / strides[i] + 1 : (padded - span) / strides[i] + 1
        if ceilMode, (out - 1) * strides[i] >= input + padBegin[i] { out -= 1 }
        return out
    }

    /// As 2-D: (kh, kw, sh, sw, dh, dw, top, left, bottom, right), with 1-D on the W axis.
    var as2D: (kh: Int, kw: Int, sh: Int, sw: Int, dh: Int, dw: Int, top: Int, left: Int, bottom: Int, right: Int) {
        if kernel.count == 1 {
            return (1, kernel[0], 1, strides[0], 1, dilations[0], 0, padBegin[0], 0, padEnd[0])
        }
        return (kernel[0], kernel[1], strides[0], strides[1], dilations[0], dilations[1], padBegin[0], padBegin[1], padEnd[0], padEnd[1])
    }
}

/// The GEMM clamp for a fused activation, and whether the activation still needs a post-pass.
func clampBounds(_ a: Activation?) -> (lo: Float, hi: Float, post: Activation?) {
    switch a {
    case .none: return (-.infinity, .infinity, nil)
    case .relu?: return (0, .infinity, nil)
    case .clip(let lo, let hi)?: return (lo, hi, nil)
    case let other?: return (-.infinity, .infinity, other)
    }
}
