/// QLinearAdd/QLinearMul broadcasting without expanding the operands: the output is split into
/// runs (the longest suffix of axes over which each operand is either contiguous or a single
/// repeated value), each run one call of the elementwise q8 kernel. A repeated operand is
/// written once per run into a small workspace chunk (at most `chunk` bytes, refilled only when
/// its value changes), so per-channel (`[1, C, 1, 1]`), scalar and NHWC bias (`[C]`) shapes
/// all run at the kernel's speed with kilobytes of workspace. The kernel is elementwise, so the
/// bytes equal those of the expanded operands.
struct Q8BroadcastRuns: Sendable {
    enum Mode: Sendable { case contiguous, repeated }

    /// The axes left of the run, and each operand's element stride along them.
    let outer: [Int]
    let aStrides, bStrides: [Int]
    /// Elements per run, and how each operand supplies them.
    let inner: Int
    let aMode, bMode: Mode
    static let chunk = 4096

    /// Bytes of workspace the repeated operands need (one chunk each).
    var workspaceBytes: Int { (aMode == .repeated ? chunkBytes : 0) + (bMode == .repeated ? chunkBytes : 0) }
    var chunkBytes: Int { (Swift.min(inner, Self.chunk) + 63) / 64 * 64 }

    /// The runs for operands of shapes `a` and `b` broadcast to `out`; nil when the runs would
    /// be shorter than `minimumRun` elements (then expanding the operands is cheaper than one
    /// kernel call per few elements).
    init?(a: [Int], b: [Int], out: [Int], minimumRun: Int = 16) {
        let sa = broadcastStrides(a, to: out), sb = broadcastStrides(b, to: out)
        // Walk axes innermost first while both operands keep one mode over the whole suffix.
        var k = out.count
        var inner = 1
        var modeA: Mode?, modeB: Mode?
        func fits(_ stride: Int, _ dim: Int, _ inner: Int, _ mode: inout Mode?) -> Bool {
            if dim == 1 { return true }
            let m: Mode
            if stride == 0 {
                m = .repeated
            } else if stride == inner {
                m = .contiguous
            } else {
                return false
            }
            if let mode, mode != m { return false }
            mode = m
            return true
        }
        while k > 0 {
            let d = out[k - 1]
            var ma = modeA, mb = modeB
            guard fits(sa[k - 1], d, inner, &ma), fits(sb[k - 1], d, inner, &mb) else { break }
            (modeA, modeB) = (ma, mb)
            inner *= d
            k -= 1
        }
        // Both operands repeated over one axis cannot happen: an output axis longer than 1 is
        // the length of at least one operand's axis, which then has a non-zero stride.
        guard inner >= minimumRun else { return nil }
        outer = Array(out[..<k])
        aStrides = Array(sa[..<k])
        bStrides = Array(sb[..<k])
        self.inner = inner
        aMode = modeA ?? .contiguous
        bMode = modeB ?? .contiguous
    }

    /// Calls `body(n, a, b, y)` over the output in runs of at most `inner` elements, filling the
    /// chunks for repeated operands. No allocation: the outer axes are walked recursively.
    func forEachRun(
        a: UnsafeMutablePointer<UInt8>, b: UnsafeMutablePointer<UInt8>, y: UnsafeMutablePointer<UInt8>,
        workspace: UnsafeMutablePointer<UInt8>,
        _ body: (Int, UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>) -> Void
    ) {
        let chunkA = workspace, chunkB = workspace + (aMode == .repeated ? chunkBytes : 0)
        var filledA: Int? = nil, filledB: Int? = nil
        var yOffset = 0
        walk(0, 0, 0) { oa, ob in
            let out = y + yOffset
            yOffset += inner
            if aMode == .repeated && filledA != Int(a[oa]) {
                chunkA.update(repeating: a[oa], count: Swift.min(inner, Self.chunk))
                filledA = Int(a[oa])
            }
            if bMode == .repeated && filledB != Int(b[ob]) {
                chunkB.update(repeating: b[ob], count: Swift.min(inner, Self.chunk))
                filledB = Int(b[ob])
            }
            var done = 0
            while done < inner {
                let n = aMode == .repeated || bMode == .repeated ? Swift.min(inner - done, Self.chunk) : inner
                body(
                    n, aMode == .repeated ? chunkA : a + oa + done, bMode == .repeated ? chunkB : b + ob + done, out + done)
                done += n
            }
        }
    }

    private func walk(_ d: Int, _ oa: Int, _ ob: Int, _ run: (Int, Int) -> Void) {
        if d == outer.count {
            run(oa, ob)
            return
        }
        for i in 0..<outer[d] { walk(d + 1, oa + i * aStrides[d], ob + i * bStrides[d], run) }
    }
}
