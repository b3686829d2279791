/// A plan-time description of iterating an output shape while reading up to three inputs that
/// broadcast to it. Adjacent axes that broadcast the same way are merged, so a same-shape add is
/// one row and a per-channel add is C rows. The run-time walk is recursive (no allocation) and
/// hands whole innermost rows to the op.
struct BroadcastLoop: Sendable {
    /// Merged output dims and, per input, element strides for them (0 = broadcast).
    let dims: [Int]
    let strides: [[Int]]
    let count: Int

    init(output: [Int], inputs: [[Int]]) {
        let per = inputs.map { broadcastStrides($0, to: output) }
        var dims: [Int] = []
        var strides: [[Int]] = inputs.map { _ in [] }
        for axis in output.indices where output[axis] != 1 {
            if let last = dims.indices.last,
                per.indices.allSatisfy({ i in strides[i][last] == per[i][axis] * output[axis] })
            {
                // Axis `axis` continues the previous merged axis for every input.
                dims[last] *= output[axis]
                for i in per.indices { strides[i][last] = per[i][axis] }
                continue
            }
            dims.append(output[axis])
            for i in per.indices { strides[i].append(per[i][axis]) }
        }
        if dims.isEmpty {
            dims = [1]
            strides = inputs.map { _ in [0] }
        }
        self.dims = dims
        self.strides = strides
        count = output.reduce(1, *)
    }

    /// Calls `row(outOffset, offsets..., length, innerStrides...)` for each innermost row.
    @inline(__always)
    func forEachRow(_ row: (_ out: Int, _ a: Int, _ b: Int, _ c: Int, _ n: Int, _ sa: Int, _ sb: Int, _ sc: Int) -> Void) {
        guard count > 0 else { return }
        walk(0, 0, 0, 0, 0, row)
    }

    private func stride(_ input: Int, _ axis: Int) -> Int { input < strides.count ? strides[input][axis] : 0 }

    private func walk(
        _ axis: Int, _ o: Int, _ a: Int, _ b: Int, _ c: Int,
        _ row: (Int, Int, Int, Int, Int, Int, Int, Int) -> Void
    ) {
        let last = dims.count - 1
        if axis == last {
            row(o, a, b, c, dims[last], stride(0, last), stride(1, last), stride(2, last))
            return
        }
        var outStride = 1
        for d in (axis + 1)..<dims.count { outStride *= dims[d] }
        let (sa, sb, sc) = (stride(0, axis), stride(1, axis), stride(2, axis))
        for i in 0..<dims[axis] {
            walk(axis + 1, o + i * outStride, a + i * sa, b + i * sb, c + i * sc, row)
        }
    }
}
