import Foundation
import ModelIR

/// Resize (canonical opset-19 form: X, roi, scales, sizes) in nearest and linear modes with the
/// coordinate transformations half_pixel, half_pixel_symmetric, pytorch_half_pixel,
/// align_corners and asymmetric, and every nearest rounding mode. Per output axis the source
/// indices and weights are computed at plan time; linear interpolates over all resized axes
/// (bilinear for NCHW), clamping source coordinates to the input as ONNX Runtime does.
extension OpRegistry {
    mutating func registerResize() {
        register("Resize") { ctx in try planResize(ctx) }
    }
}

/// One output axis: per output index, two source indices and the weight of the second.
struct ResizeAxis: Sendable {
    var i0: [Int]
    var i1: [Int]
    var w1: [Float]
}

private func planResize(_ ctx: NodePlanContext) throws -> PlannedOp {
    let x = try ctx.input(0, [.float32])
    let mode = ctx.string("mode", "nearest")
    guard mode == "nearest" || mode == "linear" else {
        throw ctx.fail("mode '\(mode)' is not supported (nearest and linear are)", .unsupportedAttribute("mode"))
    }
    let transform = ctx.string("coordinate_transformation_mode", "half_pixel")
    let transforms = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric"]
    guard transforms.contains(transform) else {
        throw ctx.fail("coordinate_transformation_mode '\(transform)' is not supported (\(transforms.joined(separator: ", ")) are)", .unsupportedAttribute("coordinate_transformation_mode"))
    }
    let rounding = ctx.string("nearest_mode", "round_prefer_floor")
    guard ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"].contains(rounding) else {
        throw ctx.fail("nearest_mode '\(rounding)' is not one of round_prefer_floor, round_prefer_ceil, floor, ceil")
    }
    guard ctx.string("keep_aspect_ratio_policy", "stretch") == "stretch" else {
        throw ctx.fail("keep_aspect_ratio_policy other than 'stretch' is not supported", .unsupportedAttribute("keep_aspect_ratio_policy"))
    }
    let axes = try (ctx.ints("axes") ?? Array(0..<x.rank)).map { try ctx.axis($0, rank: x.rank) }
    var scales = [Double](repeating: 1, count: x.rank)
    var outShape = x.shape
    if ctx.has(3) {
        let sizes = try ctx.requireInts(3, "sizes")
        guard sizes.count == axes.count, sizes.allSatisfy({ $0 >= 0 && $0 <= maxGeometryValue }) else {
            throw ctx.fail("sizes \(sizes) must have \(axes.count) non-negative entries")
        }
        for (k, a) in axes.enumerated() {
            outShape[a] = sizes[k]
            scales[a] = x.shape[a] > 0 ? Double(sizes[k]) / Double(x.shape[a]) : 1
        }
    } else if ctx.has(2) {
        let t = try ctx.requireConstant(2, "scales")
        guard let s = t.floats, s.count == axes.count, s.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw ctx.fail("scales must be \(axes.count) positive float32 values, got \(t.elementType)\(t.shape)")
        }
        for (k, a) in axes.enumerated() {
            scales[a] = Double(s[k])
            let size = (Double(x.shape[a]) * Double(s[k])).rounded(.down)
            guard size <= Double(maxGeometryValue) else { throw ctx.fail("scale \(s[k]) makes axis \(a) larger than \(maxGeometryValue)") }
            outShape[a] = Int(size)
        }
    } else {
        throw ctx.fail("one of scales (input 2) or sizes (input 3) is required")
    }
    if ctx.int("antialias", 0) != 0, mode == "linear", scales.contains(where: { $0 < 1 }) {
        throw ctx.fail("antialiased downsampling is not supported", .unsupportedAttribute("antialias"))
    }
    var plan: [ResizeAxis] = []
    for a in 0..<x.rank {
        let (n, o, s) = (x.shape[a], outShape[a], scales[a])
        var axis = ResizeAxis(i0: [], i1: [], w1: [])
        for j in 0..<o {
            var src: Double
            switch transform {
            case "asymmetric": src = Double(j) / s
            case "align_corners": src = o == 1 ? 0 : Double(j) * Double(n - 1) / Double(o - 1)
            case "pytorch_half_pixel": src = o > 1 ? (Double(j) + 0.5) / s - 0.5 : 0
            case "half_pixel_symmetric":
                let adjustment = Double(o) / (s * Double(n))
                let offset = Double(n) / 2 * (1 - adjustment)
                src = offset + (Double(j) + 0.5) / s - 0.5
            default: src = (Double(j) + 0.5) / s - 0.5
            }
            if mode == "nearest" {
                var r: Double
                switch rounding {
                case "floor": r = src.rounded(.down)
                case "ceil": r = src.rounded(.up)
                case "round_prefer_ceil": r = src - src.rounded(.down) == 0.5 ? src.rounded(.up) : src.rounded()
                default: r = src - src.rounded(.down) == 0.5 ? src.rounded(.down) : src.rounded()
                }
                let i = Int(Swift.min(Swift.max(r, 0), Double(Swift.max(n - 1, 0))))
                axis.i0.append(i)
                axis.i1.append(i)
                axis.w1.append(0)
            } else {
                let c = Swift.min(Swift.max(src, 0), Double(Swift.max(n - 1, 0)))
                let lo = Int(c.rounded(.down))
                let hi = Swift.min(lo + 1, n - 1)
                axis.i0.append(lo)
                axis.i1.append(hi)
                axis.w1.append(Float(c - Double(lo)))
            }
        }
        plan.append(axis)
    }
    guard x.shape.allSatisfy({ $0 > 0 }) || outShape.contains(0) else {
        throw ctx.fail("cannot resize the empty input \(x.shape) to \(outShape)")
    }
    // Separable passes, one per axis whose map is not the identity; intermediates ping-pong
    // between two halves of the workspace (linear over several axes = multilinear).
    var passes: [ResizePass] = []
    var shape = x.shape
    for a in 0..<x.rank {
        let identity = outShape[a] == x.shape[a] && plan[a].w1.allSatisfy { $0 == 0 } && plan[a].i0 == Array(0..<x.shape[a])
        if identity { continue }
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
        passes.append(ResizePass(outer: outer, inLength: shape[a], outLength: outShape[a], inner: inner, axis: plan[a]))
        shape[a] = outShape[a]
    }
    var largest = 0
    for p in passes.dropLast() {
        largest = Swift.max(largest, p.outer * p.outLength * p.inner)
    }
    let half = (largest * 4 + 63) / 64 * 64
    let total = x.elementCount
    return .kernel(outputs: [ValueType(.float32, outShape)], workspaceBytes: 2 * half) { b in
        ResizeKernel(input: b.input(0), output: b.outputs[0], workspace: b.workspace, half: half, passes: passes, copyCount: total)
    }
}

struct ResizePass: Sendable {
    let outer, inLength, outLength, inner: Int
    let axis: ResizeAxis
}

final class ResizeKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let input, output, workspace: Buffer
    let half: Int
    let passes: [ResizePass]
    let copyCount: Int

    init(input: Buffer, output: Buffer, workspace: Buffer, half: Int, passes: [ResizePass], copyCount: Int) {
        self.input = input
        self.output = output
        self.workspace = workspace
        self.half = half
        self.passes = passes
        self.copyCount = copyCount
    }

    func execute(_ memory: Memory) throws {
        let x = memory.floats(input), y = memory.floats(output)
        guard !passes.isEmpty else {
            y.update(from: x, count: copyCount)
            return
        }
        let ws = memory.raw(workspace)
        for (k, p) in passes.enumerated() {
            let src = k == 0 ? x : (ws + ((k - 1) % 2) * half).assumingMemoryBound(to: Float.self)
            let dst = k == passes.count - 1 ? y : (ws + (k % 2) * half).assumingMemoryBound(to: Float.self)
            for o in 0..<p.outer {
                let s = src + o * p.inLength * p.inner, d = dst + o * p.outLength * p.inner
                for j in 0..<p.outLength {
                    let r0 = s + p.axis.i0[j] * p.inner, r1 = s + p.axis.i1[j] * p.inner, w = p.axis.w1[j]
                    let out = d + j * p.inner
                    if w == 0 {
                        out.update(from: r0, count: p.inner)
                    } else {
                        for i in 0..<p.inner { out[i] = (1 - w) * r0[i] + w * r1[i] }
                    }
                }
            }
        }
    }
}
