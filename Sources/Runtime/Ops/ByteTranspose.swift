internal import CKernels

/// A Transpose of 1-byte elements that is, once size-1 axes are dropped and axes that stay
/// adjacent are merged, a batch of 2-D matrix transposes (NCHW ↔ NHWC: [N, C, H·W] ↔
/// [N, H·W, C]): run by the int8 table's `transpose8` in cache-sized tiles instead of a strided
/// element loop.
struct ByteTranspose: Equatable {
    let batch, rows, cols: Int

    /// The batched 2-D form of permuting `shape` by `perm`, or nil when it has none.
    init?(shape: [Int], perm: [Int]) {
        guard perm.count == shape.count else { return nil }
        // Axes of the output in input numbering, size-1 axes dropped.
        let kept = perm.filter { shape[$0] != 1 }
        // Runs of consecutive input axes in output order.
        var runs: [[Int]] = []
        for a in kept {
            if let last = runs.last?.last, last + 1 == a { runs[runs.count - 1].append(a) } else { runs.append([a]) }
        }
        let size = { (run: [Int]) in run.reduce(1) { $0 * shape[$1] } }
        // The runs in input order give the merged input dims; the output lists them permuted.
        let inputOrder = runs.sorted { $0[0] < $1[0] }
        let order = runs.map { r in inputOrder.firstIndex(of: r) ?? 0 }
        let dims = inputOrder.map(size)
        switch order {
        case [1, 0]: (batch, rows, cols) = (1, dims[0], dims[1])
        case [0, 2, 1]: (batch, rows, cols) = (dims[0], dims[1], dims[2])
        default: return nil
        }
    }
}

final class ByteTransposeKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let table: UnsafePointer<flotilla_q8_kernels>
    let shape: ByteTranspose
    let input, output: Buffer

    init(table: UnsafePointer<flotilla_q8_kernels>, shape: ByteTranspose, input: Buffer, output: Buffer) {
        self.table = table
        self.shape = shape
        self.input = input
        self.output = output
    }

    func execute(_ memory: Memory) throws {
        guard let transpose = table.pointee.transpose8 else { return }
        let src = memory.typed(input, UInt8.self), dst = memory.typed(output, UInt8.self)
        let (r, c) = (shape.rows, shape.cols)
        for b in 0..<shape.batch { transpose(r, c, src + b * r * c, c, dst + b * r * c, r) }
    }
}
