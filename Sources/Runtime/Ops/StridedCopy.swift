/// One affine copy: for every index `i` of `dims`, out[outBase + Σ i·outStrides] =
/// in[inBase + Σ i·inStrides] (in elements of `elementSize` bytes). Transpose, Slice, Expand,
/// Tile, Concat and Split are all one or a few of these, computed at plan time. Runs where both
/// sides are contiguous become one memcpy.
struct StridedCopy: Sendable {
    var dims: [Int]
    var inStrides: [Int]
    var outStrides: [Int]
    var inBase: Int
    var outBase: Int
    var elementSize: Int

    init(dims: [Int], inStrides: [Int], outStrides: [Int], inBase: Int = 0, outBase: Int = 0, elementSize: Int) {
        // Drop size-1 axes and merge axes that are contiguous on both sides.
        var d: [Int] = [], si: [Int] = [], so: [Int] = []
        for k in dims.indices where dims[k] != 1 {
            if let last = d.indices.last, si[last] == inStrides[k] * dims[k], so[last] == outStrides[k] * dims[k] {
                d[last] *= dims[k]
                si[last] = inStrides[k]
                so[last] = outStrides[k]
            } else {
                d.append(dims[k])
                si.append(inStrides[k])
                so.append(outStrides[k])
            }
        }
        if d.isEmpty {
            d = [1]
            si = [0]
            so = [0]
        }
        self.dims = d
        self.inStrides = si
        self.outStrides = so
        self.inBase = inBase
        self.outBase = outBase
        self.elementSize = elementSize
        empty = dims.contains(0)
    }

    private let empty: Bool

    func run(from src: UnsafeMutableRawPointer, to dst: UnsafeMutableRawPointer) {
        guard !empty else { return }
        walk(0, src + inBase * elementSize, dst + outBase * elementSize)
    }

    private func walk(_ axis: Int, _ s: UnsafeMutableRawPointer, _ d: UnsafeMutableRawPointer) {
        let n = dims[axis], es = elementSize
        if axis == dims.count - 1 {
            if inStrides[axis] == 1 && outStrides[axis] == 1 {
                d.copyMemory(from: s, byteCount: n * es)
            } else {
                let (a, b) = (inStrides[axis] * es, outStrides[axis] * es)
                for i in 0..<n { (d + i * b).copyMemory(from: s + i * a, byteCount: es) }
            }
            return
        }
        let (a, b) = (inStrides[axis] * es, outStrides[axis] * es)
        for i in 0..<n { walk(axis + 1, s + i * a, d + i * b) }
    }
}

/// A kernel made of affine copies from input buffers to output buffers.
final class StridedCopyKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    /// (input index, output index, copy)
    let copies: [(Buffer, Buffer, StridedCopy)]

    init(copies: [(Buffer, Buffer, StridedCopy)]) { self.copies = copies }

    func execute(_ memory: Memory) throws {
        for (src, dst, c) in copies { c.run(from: memory.raw(src), to: memory.raw(dst)) }
    }
}
