import ModelIR
import Runtime
import TestSupport
import XCTest

/// Conv and ConvTranspose against a direct six-loop definition computed here in Double, over
/// pads, strides, dilations, groups, depthwise, auto_pad and 1-D, on every kernel path.
final class ConvTests: XCTestCase {
    struct Case {
        var n = 1, c = 3, h = 7, w = 6, m = 4, kh = 3, kw = 3, group = 1
        var strides = [1, 1], dilations = [1, 1], pads = [0, 0, 0, 0]
        var autoPad = "NOTSET"
    }

    /// Direct convolution with explicit pads (begin/end per axis).
    static func reference(_ x: [Float], _ w: [Float], _ b: [Float]?, _ k: Case, pads: [Int]) -> ([Float], [Int]) {
        let cg = k.c / k.group, mg = k.m / k.group
        let oh = (k.h + pads[0] + pads[2] - (k.kh - 1) * k.dilations[0] - 1) / k.strides[0] + 1
        let ow = (k.w + pads[1] + pads[3] - (k.kw - 1) * k.dilations[1] - 1) / k.strides[1] + 1
        var y = [Float](repeating: 0, count: k.n * k.m * oh * ow)
        for n in 0..<k.n {
            for m in 0..<k.m {
                let g = m / mg
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var s = Double(b?[m] ?? 0)
                        for ci in 0..<cg {
                            for ky in 0..<k.kh {
                                for kx in 0..<k.kw {
                                    let iy = oy * k.strides[0] - pads[0] + ky * k.dilations[0]
                                    let ix = ox * k.strides[1] - pads[1] + kx * k.dilations[1]
                                    guard iy >= 0, iy < k.h, ix >= 0, ix < k.w else { continue }
                                    let xv = x[((n * k.c + g * cg + ci) * k.h + iy) * k.w + ix]
                                    let wv = w[((m * cg + ci) * k.kh + ky) * k.kw + kx]
                                    s += Double(xv) * Double(wv)
                                }
                            }
                        }
                        y[((n * k.m + m) * oh + oy) * ow + ox] = Float(s)
                    }
                }
            }
        }
        return (y, [k.n, k.m, oh, ow])
    }

    func run(
        _ k: Case, bias: Bool = true, explicitPads: [Int]? = nil, activation: Activation? = nil, seed: UInt64 = 1,
        path: KernelPath = .automatic, line: UInt = #line
    ) throws {
        var rng = SplitMix64(seed: seed)
        let x = rng.floats(k.n * k.c * k.h * k.w)
        let w = rng.floats(k.m * (k.c / k.group) * k.kh * k.kw)
        let b = bias ? rng.floats(k.m) : nil
        var attrs: [String: Attribute] = [
            "group": .i(k.group), "strides": .is(k.strides), "dilations": .is(k.dilations),
            "kernel_shape": .is([k.kh, k.kw]),
        ]
        if k.autoPad == "NOTSET" { attrs["pads"] = .is(k.pads) } else { attrs["auto_pad"] = .s(k.autoPad) }
        var constants = ["w": t(w, [k.m, k.c / k.group, k.kh, k.kw])]
        if let b { constants["b"] = t(b, [k.m]) }
        let out = try runNode(
            "Conv", inputs: [("x", t(x, [k.n, k.c, k.h, k.w]))], constants: constants,
            nodeInputs: bias ? ["x", "w", "b"] : ["x", "w"], attributes: attrs, activation: activation, kernels: path)
        var (expected, shape) = Self.reference(x, w, b, k, pads: explicitPads ?? k.pads)
        if let activation { expected = expected.map(activation.apply) }
        assertClose(out["y"], expected, shape: shape, tol: 1e-4, "\(k)", line: line)
    }

    func testPlainPaddedStridedDilated() throws {
        for path in [KernelPath.automatic, .reference] {
            try run(Case(), path: path)
            try run(Case(strides: [2, 1], pads: [1, 0, 2, 1]), path: path)
            try run(Case(h: 9, w: 9, dilations: [2, 2], pads: [2, 2, 2, 2]), path: path)
            try run(Case(n: 2, c: 4, m: 6, group: 2, strides: [2, 2], pads: [1, 1, 1, 1]), path: path)
        }
    }

    func testDepthwiseAndPointwise() throws {
        for path in [KernelPath.automatic, .reference] {
            try run(Case(n: 2, c: 5, h: 8, w: 8, m: 5, group: 5, strides: [2, 2], pads: [1, 1, 1, 1]), path: path)
            try run(Case(c: 8, h: 4, w: 5, m: 3, kh: 1, kw: 1), bias: false, path: path)
        }
    }

    func testAutoPadSameUpperLowerAndValid() throws {
        // in 7×6, k 3, stride 2: out 4×3; total pad H = (4-1)·2+3-7 = 2, W = (3-1)·2+3-6 = 1.
        try run(Case(strides: [2, 2], autoPad: "SAME_UPPER"), explicitPads: [1, 0, 1, 1])
        try run(Case(strides: [2, 2], autoPad: "SAME_LOWER"), explicitPads: [1, 1, 1, 0])
        try run(Case(autoPad: "VALID"), explicitPads: [0, 0, 0, 0])
    }

    func testFusedActivations() throws {
        try run(Case(pads: [1, 1, 1, 1]), activation: .relu)
        try run(Case(pads: [1, 1, 1, 1]), activation: .clip(min: -0.2, max: 0.3))
        try run(Case(pads: [1, 1, 1, 1]), activation: .hardSwish)
    }

    func testConv1DMatches2DWithHeightOne() throws {
        var rng = SplitMix64(seed: 7)
        let x = rng.floats(2 * 3 * 10), w = rng.floats(4 * 3 * 3)
        let out = try runNode(
            "Conv", inputs: [("x", t(x, [2, 3, 10]))], constants: ["w": t(w, [4, 3, 3])], nodeInputs: ["x", "w"],
            attributes: ["pads": .is([1, 2]), "strides": .is([2])])
        let (expected, _) = Self.reference(
            x, w, nil, Case(n: 2, c: 3, h: 1, w: 10, m: 4, kh: 1, kw: 3, strides: [1, 2]),
            pads: [0, 1, 0, 2])
        assertClose(out["y"], expected, shape: [2, 4, 6], tol: 1e-4)
    }

    func testBadGroupIsAPlanError() throws {
        XCTAssertThrowsError(
            try runNode(
                "Conv", inputs: [("x", t([Float](repeating: 0, count: 48), [1, 3, 4, 4]))],
                constants: ["w": t([Float](repeating: 0, count: 36), [4, 1, 3, 3])], nodeInputs: ["x", "w"],
                attributes: ["group": .i(2)])
        ) { e in
            XCTAssertTrue("\(e)".contains("group 2 must divide"), "\(e)")
            XCTAssertTrue("\(e)".contains("Conv node 'n'"), "\(e)")
        }
    }

    /// ConvTranspose against its definition: every input pixel scatters x·w into the output.
    func testConvTransposeMatchesScatterDefinition() throws {
        var rng = SplitMix64(seed: 11)
        let (n, c, h, w, mg, group, k) = (2, 4, 3, 4, 3, 2, 3)
        let (s, d, pads, outPad) = ([2, 1], [1, 2], [1, 0, 0, 1], [1, 0])
        let x = rng.floats(n * c * h * w), wt = rng.floats(c * mg * k * k), b = rng.floats(mg * group)
        let out = try runNode(
            "ConvTranspose", inputs: [("x", t(x, [n, c, h, w]))],
            constants: ["w": t(wt, [c, mg, k, k]), "b": t(b, [mg * group])], nodeInputs: ["x", "w", "b"],
            attributes: [
                "group": .i(group), "strides": .is(s), "dilations": .is(d), "pads": .is(pads),
                "output_padding": .is(outPad),
            ])
        let oh = s[0] * (h - 1) + outPad[0] + (k - 1) * d[0] + 1 - pads[0] - pads[2]
        let ow = s[1] * (w - 1) + outPad[1] + (k - 1) * d[1] + 1 - pads[1] - pads[3]
        let m = mg * group, cg = c / group
        var y = [Double](repeating: 0, count: n * m * oh * ow)
        for i in 0..<n { for oc in 0..<m { for p in 0..<(oh * ow) { y[(i * m + oc) * oh * ow + p] = Double(b[oc]) } } }
        for i in 0..<n {
            for ci in 0..<c {
                let g = ci / cg
                for iy in 0..<h {
                    for ix in 0..<w {
                        for mo in 0..<mg {
                            for ky in 0..<k {
                                for kx in 0..<k {
                                    let oy = iy * s[0] - pads[0] + ky * d[0], ox = ix * s[1] - pads[1] + kx * d[1]
                                    guard oy >= 0, oy < oh, ox >= 0, ox < ow else { continue }
                                    let oc = g * mg + mo
                                    y[((i * m + oc) * oh + oy) * ow + ox] +=
                                        Double(x[((i * c + ci) * h + iy) * w + ix])
                                        * Double(wt[((ci * mg + mo) * k + ky) * k + kx])
                                }
                            }
                        }
                    }
                }
            }
        }
        assertClose(out["y"], y.map(Float.init), shape: [n, m, oh, ow], tol: 1e-4)
    }

    func testConvTransposeOutputShapeSetsPads() throws {
        // in 3, stride 2, k 3: full output 7; output_shape 6 → total pad 1 (SAME_UPPER: end).
        let out = try runNode(
            "ConvTranspose", inputs: [("x", t([1, 2, 3], [1, 1, 3]))], constants: ["w": t([1, 1, 1], [1, 1, 3])],
            nodeInputs: ["x", "w"], attributes: ["strides": .is([2]), "output_shape": .is([6]), "auto_pad": .s("SAME_UPPER")])
        // Full: [1,1,1+2,2,2+3,3,3] = [1,1,3,2,5,3,3]; SAME_UPPER drops begin 0, end 1.
        assertClose(out["y"], [1, 1, 3, 2, 5, 3], shape: [1, 1, 6])
    }
}
