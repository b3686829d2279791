internal import CKernels
import ModelIR

/// The per-image sizes of a channels-last conv (bytes = elements: int8).
struct Q8ConvImages {
    let batch, channels, pixels, outChannels, outPixels: Int
    var inputBytes: Int { batch * channels * pixels }
    var outputBytes: Int { batch * outChannels * outPixels }
}

extension Buffer {
    /// `bytes` bytes of this arena buffer from `offset` (workspace carved into parts).
    func slice(_ offset: Int, _ bytes: Int) -> Buffer {
        bytes == 0 ? .none : .arena(arena, offset: self.offset + offset, bytes: bytes)
    }
}

/// A pointwise conv on NHWC activations: per image one `gemm_nhwc` over its pixels (rows of C
/// bytes), reading the same packed weights as the NCHW GEMM.
final class Q8GemmNHWCKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only; pointers are into the plan's constant pool.
    let table: UnsafePointer<flotilla_q8_kernels>
    let images: Q8ConvImages
    let weights: Q8GemmWeights
    let requant: Q8Requant
    let input, output, workspace: Buffer
    /// Workspace bytes of one call (the workspace holds one per thread).
    let workspaceStride: Int

    init(
        table: UnsafePointer<flotilla_q8_kernels>, images: Q8ConvImages, weights: Q8GemmWeights, requant: Q8Requant,
        input: Buffer, output: Buffer, workspace: Buffer, workspaceStride: Int
    ) {
        self.table = table
        self.images = images
        self.weights = weights
        self.requant = requant
        self.input = input
        self.output = output
        self.workspace = workspace
        self.workspaceStride = workspaceStride
    }

    func execute(_ memory: Memory) throws {
        guard let gemm = table.pointee.gemm_nhwc else { throw Q8KernelFailure(status: FLOTILLA_Q8_PACK_MISMATCH) }
        let src = memory.typed(input, UInt8.self), dst = memory.typed(output, UInt8.self)
        let ws = UnsafeMutableRawPointer(memory.typed(workspace, UInt8.self))
        let (c, m, hw, k, packed, stride) = (
            images.channels, images.outChannels, images.pixels, weights.k, weights.buffers[0], workspaceStride
        )
        let requant = self.requant
        // Threads take contiguous pixel ranges: every output row is one pixel's, computed whole.
        let parallel = m * hw * k >= GemmConvKernel.parallelWork
        for n in 0..<images.batch {
            let a = src + n * hw * c, y = dst + n * hw * m
            let status = memory.q8Chunks(hw, align: 8, parallel: parallel) { i, p0, p1 in
                var rq = requant.c()
                return gemm(m, p1 - p0, k, packed, a + p0 * c, c, &rq, y + p0 * m, m, ws + i * stride)
            }
            guard status == FLOTILLA_Q8_OK else { throw Q8KernelFailure(status: status) }
        }
    }
}

/// The channels-last half of the depthwise kernel: the table's `dwconv_nhwc`.
extension Q8DepthwiseConvKernel {
    func executeChannelsLast(_ memory: Memory) throws {
        guard let dwconv = table.pointee.dwconv_nhwc else { throw Q8KernelFailure(status: FLOTILLA_Q8_PACK_MISMATCH) }
        var geo = geometry
        let (c, w) = (geometry.channels, geometry.in_w)
        let chw = c * geometry.in_h * w
        let oh = flotilla_f32_conv2d_out_h(&geo), ow = flotilla_f32_conv2d_out_w(&geo)
        let src = memory.typed(input, UInt8.self), dst = memory.typed(output, UInt8.self)
        let (geometry, params, packed) = (self.geometry, self.params, self.packed)
        // Threads take bands of output rows, each a convolution of its own input rows (the
        // pack is for the whole image's geometry, so bands compute their constants per call).
        let parallel =
            (memory.pool?.width ?? 1) > 1 && Self.splits(geometry)
            && c * oh * ow * geometry.kernel_h * geometry.kernel_w >= GemmConvKernel.parallelWork / 2
        for n in 0..<batch {
            let x = src + n * chw, y = dst + n * c * oh * ow
            let status: flotilla_q8_status
            if parallel {
                status = memory.q8Chunks(oh, align: 1, parallel: true) { _, r0, r1 in
                    var (band, firstRow) = Self.band(geometry, rows: r0, r1)
                    var p = params
                    return dwconv(&band, &p, nil, x + firstRow * w * c, y + r0 * ow * c)
                }
            } else {
                var g = geometry, p = params
                status = dwconv(&g, &p, packed, x, y)
            }
            guard status == FLOTILLA_Q8_OK else { throw Q8KernelFailure(status: status) }
        }
    }

    /// Whether every band of output rows reads at least one input row (padding shorter than the
    /// kernel's extent at both ends).
    static func splits(_ g: flotilla_f32_conv2d_geometry) -> Bool {
        let extent = (g.kernel_h - 1) * g.dilation_h + 1
        return g.pad_top < extent && g.pad_bottom < extent
    }

    /// The geometry of output rows [r0, r1) as a convolution of their own input rows (padding
    /// only where the band reaches past the image), and the first input row it reads.
    static func band(_ g: flotilla_f32_conv2d_geometry, rows r0: Int, _ r1: Int) -> (flotilla_f32_conv2d_geometry, Int) {
        let first = r0 * g.stride_h - g.pad_top
        let last = (r1 - 1) * g.stride_h - g.pad_top + (g.kernel_h - 1) * g.dilation_h + 1
        let lo = max(first, 0), hi = min(last, g.in_h)
        var b = g
        b.pad_top = lo - first
        b.pad_bottom = last - hi
        b.in_h = hi - lo
        return (b, lo)
    }
}

extension Memory {
    /// `indexedChunks` for int8 kernels that return a status: the first failure, if any (they
    /// refuse only a pack that does not match, which every chunk shares). Allocates nothing.
    func q8Chunks(_ count: Int, align: Int, parallel: Bool, _ body: (Int, Int, Int) -> flotilla_q8_status) -> flotilla_q8_status {
        guard count > 0 else { return FLOTILLA_Q8_OK }
        guard parallel, let pool, pool.width > 1 else { return body(0, 0, count) }
        return withUnsafeTemporaryAllocation(of: flotilla_q8_status.self, capacity: pool.width) { status in
            status.initialize(repeating: FLOTILLA_Q8_OK)
            indexedChunks(count, align: align, parallel: parallel) { i, start, end in status[i] = body(i, start, end) }
            return status.first { $0 != FLOTILLA_Q8_OK } ?? FLOTILLA_Q8_OK
        }
    }
}

/// A channels-last conv the path has no NHWC kernel for (k×k, grouped, strided 1×1, or NHWC
/// entries missing): the input is transposed to NCHW scratch, the NCHW kernel runs, and its
/// output is transposed back.
final class Q8ChannelsLastAdapter: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let table: UnsafePointer<flotilla_q8_kernels>
    let images: Q8ConvImages
    let inner: any Kernel
    let input, output, nchwInput, nchwOutput: Buffer

    init(
        table: UnsafePointer<flotilla_q8_kernels>, images: Q8ConvImages, inner: any Kernel, input: Buffer, output: Buffer,
        nchwInput: Buffer, nchwOutput: Buffer
    ) {
        self.table = table
        self.images = images
        self.inner = inner
        self.input = input
        self.output = output
        self.nchwInput = nchwInput
        self.nchwOutput = nchwOutput
    }

    func execute(_ memory: Memory) throws {
        guard let transpose = table.pointee.transpose8 else { throw Q8KernelFailure(status: FLOTILLA_Q8_PACK_MISMATCH) }
        let i = images
        let src = memory.typed(input, UInt8.self), dst = memory.typed(output, UInt8.self)
        let a = memory.typed(nchwInput, UInt8.self), b = memory.typed(nchwOutput, UInt8.self)
        for n in 0..<i.batch {
            transpose(i.pixels, i.channels, src + n * i.pixels * i.channels, i.channels, a + n * i.pixels * i.channels, i.pixels)
        }
        try inner.execute(memory)
        for n in 0..<i.batch {
            let o = n * i.outPixels * i.outChannels
            transpose(i.outChannels, i.outPixels, b + o, i.outPixels, dst + o, i.outChannels)
        }
    }
}
