import Foundation
import ModelIR
import Runtime
import TestSupport
import XCTest

/// LSTM and GRU against a direct Double transcription of the ONNX equations, over directions,
/// sequence lengths, initial states, peepholes, clip and linear_before_reset.
final class RecurrentTests: XCTestCase {
    func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// Returns (Y [S, D, B, H], Y_h [D, B, H], Y_c) for layout 0.
    func reference(
        lstm: Bool, x: [Float], w: [Float], r: [Float], b: [Float], p: [Float]?, h0: [Float]?, c0: [Float]?,
        lens: [Int], s: Int, batch: Int, i: Int, hs: Int, dirs: Int, reverseOnly: Bool, clip: Double?, lbr: Bool
    )
        -> ([Double], [Double], [Double])
    {
        let g = lstm ? 4 : 3
        var y = [Double](repeating: 0, count: s * dirs * batch * hs)
        var yh = [Double](repeating: 0, count: dirs * batch * hs), yc = yh
        func cl(_ v: Double) -> Double { clip.map { min(max(v, -$0), $0) } ?? v }
        for d in 0..<dirs {
            let reverse = reverseOnly || d == 1
            func W(_ row: Int, _ col: Int) -> Double { Double(w[(d * g * hs + row) * i + col]) }
            func R(_ row: Int, _ col: Int) -> Double { Double(r[(d * g * hs + row) * hs + col]) }
            func Wb(_ row: Int) -> Double { Double(b[d * 2 * g * hs + row]) }
            func Rb(_ row: Int) -> Double { Double(b[d * 2 * g * hs + g * hs + row]) }
            for bi in 0..<batch {
                var h = (0..<hs).map { Double(h0?[(d * batch + bi) * hs + $0] ?? 0) }
                var c = (0..<hs).map { Double(c0?[(d * batch + bi) * hs + $0] ?? 0) }
                for step in 0..<lens[bi] {
                    let t = reverse ? lens[bi] - 1 - step : step
                    let xt = (0..<i).map { Double(x[(t * batch + bi) * i + $0]) }
                    func gate(_ k: Int, _ j: Int, _ hv: [Double]) -> Double {
                        let row = k * hs + j
                        var v = Wb(row) + Rb(row)
                        for q in 0..<i { v += W(row, q) * xt[q] }
                        for q in 0..<hs { v += R(row, q) * hv[q] }
                        return v
                    }
                    if lstm {
                        var nh = h, nc = c
                        for j in 0..<hs {
                            let pi = p.map { Double($0[d * 3 * hs + j]) } ?? 0, po = p.map { Double($0[d * 3 * hs + hs + j]) } ?? 0
                            let pf = p.map { Double($0[d * 3 * hs + 2 * hs + j]) } ?? 0
                            let ig = sigmoid(cl(gate(0, j, h) + pi * c[j]))
                            let fg = sigmoid(cl(gate(2, j, h) + pf * c[j]))
                            let cc = tanh(cl(gate(3, j, h)))
                            nc[j] = fg * c[j] + ig * cc
                            let og = sigmoid(cl(gate(1, j, h) + po * nc[j]))
                            nh[j] = og * tanh(nc[j])
                        }
                        h = nh
                        c = nc
                    } else {
                        let z = (0..<hs).map { sigmoid(cl(gate(0, $0, h))) }
                        let rg = (0..<hs).map { sigmoid(cl(gate(1, $0, h))) }
                        var nh = h
                        for j in 0..<hs {
                            let row = 2 * hs + j
                            var xpart = Wb(row)
                            for q in 0..<i { xpart += W(row, q) * xt[q] }
                            var hpart = 0.0
                            if lbr {
                                var hr = Rb(row)
                                for q in 0..<hs { hr += R(row, q) * h[q] }
                                hpart = rg[j] * hr
                            } else {
                                hpart = Rb(row)
                                for q in 0..<hs { hpart += R(row, q) * rg[q] * h[q] }
                            }
                            let hh = tanh(cl(xpart + hpart))
                            nh[j] = (1 - z[j]) * hh + z[j] * h[j]
                        }
                        h = nh
                    }
                    for j in 0..<hs { y[((t * dirs + d) * batch + bi) * hs + j] = h[j] }
                }
                for j in 0..<hs {
                    yh[(d * batch + bi) * hs + j] = h[j]
                    yc[(d * batch + bi) * hs + j] = c[j]
                }
            }
        }
        return (y, yh, yc)
    }

    func check(
        lstm: Bool, direction: String, withLens: Bool, initial: Bool, peephole: Bool = false, clip: Float? = nil,
        lbr: Bool = false, line: UInt = #line
    ) throws {
        var rng = SplitMix64(seed: lstm ? 31 : 37)
        let (s, batch, i, hs) = (4, 3, 5, 6)
        let dirs = direction == "bidirectional" ? 2 : 1
        let g = lstm ? 4 : 3
        let x = rng.floats(s * batch * i), w = rng.floats(dirs * g * hs * i), r = rng.floats(dirs * g * hs * hs)
        let b = rng.floats(dirs * 2 * g * hs)
        let p = peephole ? rng.floats(dirs * 3 * hs) : nil
        let h0 = initial ? rng.floats(dirs * batch * hs) : nil, c0 = initial && lstm ? rng.floats(dirs * batch * hs) : nil
        let lens = withLens ? [4, 2, 0] : [4, 4, 4]
        var inputs: [(String, Tensor)] = [("x", t(x, [s, batch, i]))]
        var names = ["x", "w", "r", "b", "", "", ""]
        if withLens {
            inputs.append(("lens", try Tensor(int32s: lens.map(Int32.init), shape: [batch])))
            names[4] = "lens"
        }
        if let h0 {
            inputs.append(("h0", t(h0, [dirs, batch, hs])))
            names[5] = "h0"
        }
        if let c0 {
            inputs.append(("c0", t(c0, [dirs, batch, hs])))
            names[6] = "c0"
        }
        var constants = ["w": t(w, [dirs, g * hs, i]), "r": t(r, [dirs, g * hs, hs]), "b": t(b, [dirs, 2 * g * hs])]
        if let p {
            constants["p"] = t(p, [dirs, 3 * hs])
            names.append("p")
        }
        if !lstm { names = Array(names.prefix(6)) }
        var attrs: [String: Attribute] = ["hidden_size": .i(hs), "direction": .s(direction)]
        if let clip { attrs["clip"] = .f(clip) }
        if lbr { attrs["linear_before_reset"] = .i(1) }
        let outs = lstm ? ["y", "yh", "yc"] : ["y", "yh"]
        let out = try runNode(
            lstm ? "LSTM" : "GRU", inputs: inputs, constants: constants, nodeInputs: names, attributes: attrs, outputs: outs)
        let (ey, eh, ec) = reference(
            lstm: lstm, x: x, w: w, r: r, b: b, p: p, h0: h0, c0: c0, lens: lens, s: s, batch: batch, i: i,
            hs: hs, dirs: dirs, reverseOnly: direction == "reverse", clip: clip.map(Double.init), lbr: lbr)
        assertClose(out["y"], ey.map(Float.init), shape: [s, dirs, batch, hs], tol: 1e-5, "Y \(direction)", line: line)
        assertClose(out["yh"], eh.map(Float.init), shape: [dirs, batch, hs], tol: 1e-5, "Y_h \(direction)", line: line)
        if lstm { assertClose(out["yc"], ec.map(Float.init), shape: [dirs, batch, hs], tol: 1e-5, "Y_c \(direction)", line: line) }
    }

    func testLSTM() throws {
        for direction in ["forward", "reverse", "bidirectional"] {
            try check(lstm: true, direction: direction, withLens: false, initial: false)
            try check(lstm: true, direction: direction, withLens: true, initial: true, peephole: true)
        }
        try check(lstm: true, direction: "forward", withLens: false, initial: true, clip: 0.3)
    }

    func testGRU() throws {
        for direction in ["forward", "reverse", "bidirectional"] {
            try check(lstm: false, direction: direction, withLens: false, initial: false)
            try check(lstm: false, direction: direction, withLens: true, initial: true, lbr: true)
        }
        try check(lstm: false, direction: "bidirectional", withLens: true, initial: true, clip: 0.4)
    }

    func testSequenceLengthOutOfRangeFailsTheRun() throws {
        let (s, batch, i, hs) = (2, 1, 1, 1)
        XCTAssertThrowsError(
            try runNode(
                "GRU",
                inputs: [
                    ("x", t([Float](repeating: 0, count: s * batch * i), [s, batch, i])),
                    ("lens", try Tensor(int32s: [3], shape: [1])),
                ],
                constants: ["w": t([0, 0, 0], [1, 3, 1]), "r": t([0, 0, 0], [1, 3, 1])],
                nodeInputs: ["x", "w", "r", "", "lens"], attributes: ["hidden_size": .i(hs)])
        ) { e in
            XCTAssertTrue("\(e)".contains("sequence_lens[0] = 3"), "\(e)")
        }
    }
}
