import CKernels
import TestSupport

/// Random valid convolution geometries: small planes so every padding/stride/dilation corner
/// (taps entirely in padding, outputs of width 1, asymmetric pads) is hit many times.
func randomGeometries(count: Int, seed: UInt64, maxKernel: Int = 5) -> [flotilla_f32_conv2d_geometry] {
    var rng = SplitMix64(seed: seed)
    var result: [flotilla_f32_conv2d_geometry] = []
    while result.count < count {
        var g = flotilla_f32_conv2d_geometry()
        g.channels = Int.random(in: 1...3, using: &rng)
        g.in_h = Int.random(in: 1...13, using: &rng)
        g.in_w = Int.random(in: 1...40, using: &rng)
        g.kernel_h = Int.random(in: 1...maxKernel, using: &rng)
        g.kernel_w = Int.random(in: 1...maxKernel, using: &rng)
        g.stride_h = Int.random(in: 1...3, using: &rng)
        g.stride_w = Int.random(in: 1...3, using: &rng)
        g.dilation_h = Int.random(in: 1...2, using: &rng)
        g.dilation_w = Int.random(in: 1...3, using: &rng)
        g.pad_top = Int.random(in: 0...3, using: &rng)
        g.pad_left = Int.random(in: 0...3, using: &rng)
        g.pad_bottom = Int.random(in: 0...3, using: &rng)
        g.pad_right = Int.random(in: 0...3, using: &rng)
        if flotilla_f32_conv2d_geometry_check(&g) == FLOTILLA_F32_GEOMETRY_OK { result.append(g) }
    }
    return result
}

/// A geometry with square kernel and symmetric or given padding, for the model-shaped cases.
func geometry(
    channels: Int, h: Int, w: Int, kernel: Int, stride: Int, pads: (Int, Int, Int, Int),
    dilation: Int = 1
) -> flotilla_f32_conv2d_geometry {
    var g = flotilla_f32_conv2d_geometry()
    g.channels = channels
    g.in_h = h
    g.in_w = w
    g.kernel_h = kernel
    g.kernel_w = kernel
    g.stride_h = stride
    g.stride_w = stride
    g.dilation_h = dilation
    g.dilation_w = dilation
    (g.pad_top, g.pad_left, g.pad_bottom, g.pad_right) = pads
    return g
}

func describe(_ g: flotilla_f32_conv2d_geometry) -> String {
    "C=\(g.channels) in=\(g.in_h)x\(g.in_w) k=\(g.kernel_h)x\(g.kernel_w) s=\(g.stride_h),\(g.stride_w) "
        + "d=\(g.dilation_h),\(g.dilation_w) pad(t,l,b,r)=\(g.pad_top),\(g.pad_left),\(g.pad_bottom),\(g.pad_right)"
}
