import Foundation
import ModelIR

/// Resize (canonical opset-19 form: X, roi, scales, sizes): nearest (every rounding mode),
/// linear and cubic (cubic_coeff_a, exclude_outside), antialiased linear/cubic downsampling,
/// every coordinate transformation including tf_crop_and_resize (roi, extrapolation_value),
/// and keep_aspect_ratio_policy. Per output axis the source indices and weights are computed at
/// plan time (`ResizeCoefficients.swift`); the kernel runs one separable pass per resized axis.
extension OpRegistry {
    mutating func registerResize() {
        register("Resize") { ctx in try planResize(ctx) }
    }
}

private func planResize(_ ctx: NodePlanContext) throws -> PlannedOp {
    let x = try ctx.input(0, [.float32])
    let r = try ResizePlan(ctx, input: x.shape)
    return .kernel(outputs: [ValueType(.float32, r.outShape)], workspaceBytes: 2 * r.halfBytes(elementBytes: 4)) { b in
        ResizeKernel<Float>(
            input: b.input(0), output: b.outputs[0], workspace: b.workspace, half: r.halfBytes(elementBytes: 4), passes: r.passes,
            copyCount: r.inputCount, fill: r.extrapolation)
    }
}

/// The attributes of a Resize node resolved for one input shape: output shape and the
/// separable passes (per resized axis, source indices and weights), shared by the fp32 kernel
/// and the int8 nearest kernel (`Op+QuantizedResize.swift`).
struct ResizePlan {
    let mode: String
    let outShape: [Int]
    let passes: [ResizePass]
    /// Elements of the largest intermediate (passes ping-pong between two workspace halves).
    let largestIntermediate: Int
    let inputCount: Int
    let extrapolation: Float

    func halfBytes(elementBytes: Int) -> Int { (largestIntermediate * elementBytes + 63) / 64 * 64 }
}

extension ResizePlan {
    init(_ ctx: NodePlanContext, input xShape: [Int]) throws {
        let x = (shape: xShape, rank: xShape.count, elementCount: xShape.reduce(1, *))
        let mode = ctx.string("mode", "nearest")
        guard ["nearest", "linear", "cubic"].contains(mode) else {
            throw ctx.fail("mode '\(mode)' is not one of nearest, linear, cubic", .unsupportedAttribute("mode"))
        }
        let transform = ctx.string("coordinate_transformation_mode", "half_pixel")
        let transforms = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize"]
        guard transforms.contains(transform) else {
            throw ctx.fail(
                "coordinate_transformation_mode '\(transform)' is not supported (\(transforms.joined(separator: ", ")) are)",
                .unsupportedAttribute("coordinate_transformation_mode"))
        }
        let rounding = ctx.string("nearest_mode", "round_prefer_floor")
        guard ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"].contains(rounding) else {
            throw ctx.fail("nearest_mode '\(rounding)' is not one of round_prefer_floor, round_prefer_ceil, floor, ceil")
        }
        let policy = ctx.string("keep_aspect_ratio_policy", "stretch")
        guard ["stretch", "not_larger", "not_smaller"].contains(policy) else {
            throw ctx.fail("keep_aspect_ratio_policy '\(policy)' is not one of stretch, not_larger, not_smaller")
        }
        let axes = try (ctx.ints("axes") ?? Array(0..<x.rank)).map { try ctx.axis($0, rank: x.rank) }
        guard Set(axes).count == axes.count else { throw ctx.fail("axes \(axes) repeat an axis") }
        var scales = [Double](repeating: 1, count: x.rank)
        var outShape = x.shape
        if ctx.has(3) {
            let sizes = try ctx.requireInts(3, "sizes")
            guard sizes.count == axes.count, sizes.allSatisfy({ $0 >= 0 && $0 <= maxGeometryValue }) else {
                throw ctx.fail("sizes \(sizes) must have \(axes.count) non-negative entries")
            }
            if policy == "stretch" {
                for (k, a) in axes.enumerated() {
                    outShape[a] = sizes[k]
                    scales[a] = x.shape[a] > 0 ? Double(sizes[k]) / Double(x.shape[a]) : 1
                }
            } else {
                // One scale for every axis, the smallest (not_larger) or largest (not_smaller) of
                // the per-axis ratios; sizes are then round(scale · n), halves up.
                let ratios = axes.enumerated().map { k, a in x.shape[a] > 0 ? Double(sizes[k]) / Double(x.shape[a]) : 1 }
                let s = (policy == "not_larger" ? ratios.min() : ratios.max()) ?? 1
                for a in axes {
                    scales[a] = s
                    let size = (s * Double(x.shape[a]) + 0.5).rounded(.down)
                    guard size <= Double(maxGeometryValue) else {
                        throw ctx.fail("the resized axis \(a) is larger than \(maxGeometryValue)")
                    }
                    outShape[a] = Int(size)
                }
            }
        } else if ctx.has(2) {
            let t = try ctx.requireConstant(2, "scales")
            guard let s = t.floats, s.count == axes.count, s.allSatisfy({ $0 > 0 && $0.isFinite }) else {
                throw ctx.fail("scales must be \(axes.count) positive float32 values, got \(t.elementType)\(t.shape)")
            }
            for (k, a) in axes.enumerated() {
                scales[a] = Double(s[k])
                let size = (Double(x.shape[a]) * Double(s[k])).rounded(.down)
                guard size <= Double(maxGeometryValue) else {
                    throw ctx.fail("scale \(s[k]) makes axis \(a) larger than \(maxGeometryValue)")
                }
                outShape[a] = Int(size)
            }
        } else {
            throw ctx.fail("one of scales (input 2) or sizes (input 3) is required")
        }
        var roi = [(Double, Double)](repeating: (0, 1), count: x.rank)
        if transform == "tf_crop_and_resize" {
            let t = try ctx.requireConstant(1, "roi")
            guard let r = t.asDoubles, r.count == 2 * axes.count, r.allSatisfy(\.isFinite) else {
                throw ctx.fail(
                    "roi must hold \(2 * axes.count) finite numbers (starts, then ends, per resized axis), got \(t.elementType)\(t.shape)")
            }
            for (k, a) in axes.enumerated() { roi[a] = (r[k], r[axes.count + k]) }
        }
        guard x.shape.allSatisfy({ $0 > 0 }) || outShape.contains(0) else {
            throw ctx.fail("cannot resize the empty input \(x.shape) to \(outShape)")
        }
        let antialias = ctx.int("antialias", 0) != 0 && mode != "nearest"
        var plan: [ResizeAxis] = []
        var taps = 0
        for a in 0..<x.rank {
            let spec = ResizeAxisSpec(
                mode: mode, transform: transform, rounding: rounding, cubicA: Double(ctx.float("cubic_coeff_a", -0.75)),
                excludeOutside: ctx.int("exclude_outside", 0) != 0, antialias: antialias, roi: roi[a])
            let axis = spec.axis(n: x.shape[a], scale: scales[a], outLength: outShape[a])
            taps += axis.index.count
            guard taps <= 1 << 26 else { throw ctx.fail("the interpolation tables would hold over \(1 << 26) taps") }
            plan.append(axis)
        }
        // Separable passes, innermost axis first as in the ONNX reference (so an extrapolated
        // position stays exactly the extrapolation value), skipping identity axes; intermediates
        // ping-pong between two halves of the workspace.
        var passes: [ResizePass] = []
        var shape = x.shape
        for a in (0..<x.rank).reversed() {
            if outShape[a] == x.shape[a] && plan[a].isIdentity { continue }
            let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *)
            passes.append(ResizePass(outer: outer, inLength: shape[a], outLength: outShape[a], inner: inner, axis: plan[a]))
            shape[a] = outShape[a]
        }
        var largest = 0
        for p in passes.dropLast() {
            largest = Swift.max(largest, p.outer * p.outLength * p.inner)
        }
        self.init(
            mode: mode, outShape: outShape, passes: passes, largestIntermediate: largest, inputCount: x.elementCount,
            extrapolation: ctx.float("extrapolation_value", 0))
    }
}

struct ResizePass: Sendable {
    let outer, inLength, outLength, inner: Int
    let axis: ResizeAxis
}

/// What one separable Resize pass does for an element type: fp32 weighs the taps of every
/// output (`Float`); the int8/uint8 kernel, nearest only, copies the one source byte (`UInt8`,
/// `Op+QuantizedResize.swift`). `fill` is written where tf_crop_and_resize extrapolates.
protocol ResizeElement: Sendable {
    static func resizePass(_ p: ResizePass, _ src: UnsafeMutablePointer<Self>, _ dst: UnsafeMutablePointer<Self>, fill: Self)
}

/// The passes of a `ResizePlan` in order, innermost axis first; intermediates ping-pong between
/// the two halves of the workspace (`half` bytes each).
final class ResizeKernel<Element: ResizeElement>: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let input, output, workspace: Buffer
    let half: Int
    let passes: [ResizePass]
    let copyCount: Int
    let fill: Element

    init(input: Buffer, output: Buffer, workspace: Buffer, half: Int, passes: [ResizePass], copyCount: Int, fill: Element) {
        self.input = input
        self.output = output
        self.workspace = workspace
        self.half = half
        self.passes = passes
        self.copyCount = copyCount
        self.fill = fill
    }

    func execute(_ memory: Memory) throws {
        let x = memory.typed(input, Element.self), y = memory.typed(output, Element.self)
        guard !passes.isEmpty else {
            y.update(from: x, count: copyCount)
            return
        }
        let ws = memory.raw(workspace)
        for (k, p) in passes.enumerated() {
            let src = k == 0 ? x : (ws + ((k - 1) % 2) * half).assumingMemoryBound(to: Element.self)
            let dst = k == passes.count - 1 ? y : (ws + (k % 2) * half).assumingMemoryBound(to: Element.self)
            Element.resizePass(p, src, dst, fill: fill)
        }
    }
}

extension Float: ResizeElement {
    static func resizePass(_ p: ResizePass, _ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>, fill: Float) {
        let taps = p.axis.taps
        p.axis.index.withUnsafeBufferPointer { index in
            p.axis.weight.withUnsafeBufferPointer { weight in
                for o in 0..<p.outer {
                    let s = src + o * p.inLength * p.inner, d = dst + o * p.outLength * p.inner
                    for j in 0..<p.outLength {
                        let out = d + j * p.inner
                        if p.axis.extrapolate[j] {
                            out.update(repeating: fill, count: p.inner)
                            continue
                        }
                        let first = j * taps
                        if taps == 1 {
                            out.update(from: s + index[first] * p.inner, count: p.inner)
                            continue
                        }
                        let (r0, w0) = (s + index[first] * p.inner, weight[first])
                        for i in 0..<p.inner { out[i] = w0 * r0[i] }
                        for t in 1..<taps {
                            let (r, w) = (s + index[first + t] * p.inner, weight[first + t])
                            for i in 0..<p.inner { out[i] += w * r[i] }
                        }
                    }
                }
            }
        }
    }
}
