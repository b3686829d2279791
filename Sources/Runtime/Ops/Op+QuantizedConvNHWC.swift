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

    init(
        table: UnsafePointer<flotilla_q8_kernels>, images: Q8ConvImages, weights: Q8GemmWeights, requant: Q8Requant,
        input: Buffer, output: Buffer, workspace: Buffer
    ) {
        self.table = table
        self.images = images
        self.weights = weights
        self.requant = requant
        self.input = input
        self.output = output
        self.workspace = workspace
    }

    func execute(_ memory: Memory) throws {
        let src = memory.typed(input, UInt8.self), dst = memory.typed(output, UInt8.self)
        let ws = UnsafeMutableRawPointer(memory.typed(workspace, UInt8.self))
        let (c, m, hw) = (images.channels, images.outChannels, images.pixels)
        var rq = requant.c()
        for n in 0..<images.batch {
            let status =
                table.pointee.gemm_nhwc?(m, hw, weights.k, weights.buffers[0], src + n * hw * c, c, &rq, dst + n * hw * m, m, ws)
                ?? FLOTILLA_Q8_PACK_MISMATCH
            guard status == FLOTILLA_Q8_OK else { throw Q8KernelFailure(status: status) }
        }
    }
}

/// A depthwise conv on NHWC activations through the table's `dwconv_nhwc`.
final class Q8DepthwiseNHWCKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only; the params' and the pack's pointers are into the
    // plan's constant pool.
    let table: UnsafePointer<flotilla_q8_kernels>
    let geometry: flotilla_f32_conv2d_geometry
    let batch: Int
    let params: flotilla_q8_dwconv_params
    /// The plan-time pack, or nil when the path packs nothing (the reference).
    let packed: UnsafeMutableRawPointer?
    let input, output: Buffer

    init(
        table: UnsafePointer<flotilla_q8_kernels>, geometry: flotilla_f32_conv2d_geometry, batch: Int,
        params: flotilla_q8_dwconv_params, packed: UnsafeMutableRawPointer?, input: Buffer, output: Buffer
    ) {
        self.table = table
        self.geometry = geometry
        self.batch = batch
        self.params = params
        self.packed = packed
        self.input = input
        self.output = output
    }

    func execute(_ memory: Memory) throws {
        var geo = geometry, p = params
        let chw = geometry.channels * geometry.in_h * geometry.in_w
        let cohw = geometry.channels * flotilla_f32_conv2d_out_h(&geo) * flotilla_f32_conv2d_out_w(&geo)
        let src = memory.typed(input, UInt8.self), dst = memory.typed(output, UInt8.self)
        for n in 0..<batch {
            let status = table.pointee.dwconv_nhwc?(&geo, &p, packed, src + n * chw, dst + n * cohw) ?? FLOTILLA_Q8_PACK_MISMATCH
            guard status == FLOTILLA_Q8_OK else { throw Q8KernelFailure(status: status) }
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

extension NodePlanContext {
    /// The channels-last depthwise pack for the plan's path, or nil when it packs nothing.
    func q8PackDepthwiseNHWC(
        _ geometry: flotilla_f32_conv2d_geometry, _ params: flotilla_q8_dwconv_params, weightName: String
    ) throws -> UnsafeMutableRawPointer? {
        var g = geometry, p = params
        let table = kernels.q8.pointee
        guard let sizeOf = table.dwconv_nhwc_pack_size, let pack = table.dwconv_nhwc_pack else { return nil }
        let size = sizeOf(&g)
        guard size > 0 else { return nil }
        let packed = pool.allocate(bytes: size)
        try q8Check(self, pack(&g, &p, packed), "packing channels-last depthwise weights '\(weightName)'")
        return packed
    }
}
