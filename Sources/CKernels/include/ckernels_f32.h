// fp32 kernels for the float runtime: GEMM (with pre-packed weights), im2col and depthwise
// convolution, each as a plain reference (`__ref`) and optimized per-ISA variants.
//
// All kernels assume valid arguments: the runtime validates shapes once at plan time (see
// flotilla_f32_conv2d_geometry_check) and hot loops only run. No kernel allocates memory; where
// scratch memory is needed the caller passes a workspace sized by a `*_size` function.
//
// Packed buffers are path-specific: a buffer packed with one table's `gemm_pack_a` must be used
// with the same table's `gemm_packed_a`. The `flotilla_f32_*` free functions all use the table
// returned by flotilla_f32_kernels_get(), so they are always consistent with each other.
#ifndef FLOTILLA_CKERNELS_F32_H
#define FLOTILLA_CKERNELS_F32_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Geometry of a 2-D convolution over one NCHW image (batch is the caller's loop).
/// Output size: out = (in + pad_before + pad_after - dilation * (kernel - 1) - 1) / stride + 1.
typedef struct flotilla_f32_conv2d_geometry {
    size_t channels;  ///< input channels (im2col) or channels (depthwise)
    size_t in_h, in_w;
    size_t kernel_h, kernel_w;
    size_t stride_h, stride_w;
    size_t dilation_h, dilation_w;
    size_t pad_top, pad_left, pad_bottom, pad_right;
} flotilla_f32_conv2d_geometry;

/// Why a geometry cannot be run; FLOTILLA_F32_GEOMETRY_OK when it can.
typedef enum flotilla_f32_geometry_status {
    FLOTILLA_F32_GEOMETRY_OK = 0,
    FLOTILLA_F32_GEOMETRY_ZERO_DIMENSION = 1,  ///< channels, in_h, in_w or a kernel side is 0
    FLOTILLA_F32_GEOMETRY_ZERO_STRIDE = 2,     ///< a stride is 0
    FLOTILLA_F32_GEOMETRY_ZERO_DILATION = 3,   ///< a dilation is 0
    FLOTILLA_F32_GEOMETRY_EMPTY_OUTPUT = 4,    ///< the dilated kernel is larger than the padded input
    FLOTILLA_F32_GEOMETRY_TOO_LARGE = 5,       ///< a size overflows size_t arithmetic
} flotilla_f32_geometry_status;

/// Checks a geometry at plan time. Kernels given a geometry that is not OK have undefined behaviour.
flotilla_f32_geometry_status flotilla_f32_conv2d_geometry_check(const flotilla_f32_conv2d_geometry *g);
/// Output height and width of a geometry that passed flotilla_f32_conv2d_geometry_check.
size_t flotilla_f32_conv2d_out_h(const flotilla_f32_conv2d_geometry *g);
size_t flotilla_f32_conv2d_out_w(const flotilla_f32_conv2d_geometry *g);

/// One kernel path: every entry point of one ISA level. Tables are static and immutable.
///
/// GEMM conventions (row-major, leading dimensions in elements):
/// - `gemm_packed_a`: C[M×N] = clamp(packedA[M×K] · B[K×N] + bias[m]) for NCHW convolution,
///   A = weights (M = Cout, K = Cin·kh·kw), B = activations (the input itself for a 1×1 conv,
///   the im2col matrix otherwise), bias per row (output channel) or NULL.
/// - `gemm` / `gemm_packed_b`: C[M×N] = clamp(A[M×K] · op(B) + bias[n]) for MatMul/Gemm,
///   op(B) = B (K×N) or, with trans_b, Bᵀ where B is N×K; bias per column or NULL.
/// - clamp(x) = min(max(x, clamp_min), clamp_max): pass -INFINITY/INFINITY for none, 0/INFINITY
///   for a fused Relu, 0/6 for Relu6. A NaN sum passes through the clamp unchanged.
/// - C must not overlap A, B or bias. K may be 0 (C = clamp(bias) or clamp(0)).
typedef struct flotilla_f32_kernels {
    /// "reference", "avx2" or "avx512".
    const char *name;
    /// Register tile (rows × columns of C) of the GEMM microkernel, for documentation and tuning.
    size_t gemm_mr, gemm_nr;

    /// Floats needed to pack an M×K weight matrix for this path.
    size_t (*gemm_pack_a_size)(size_t M, size_t K);
    /// Packs row-major A (M×K, row stride lda ≥ K) into `packed` (gemm_pack_a_size floats).
    void (*gemm_pack_a)(size_t M, size_t K, const float *A, size_t lda, float *packed);
    /// C = clamp(packedA · B + bias[row]); B is K×N with row stride ldb ≥ N, C has ldc ≥ N.
    void (*gemm_packed_a)(size_t M, size_t N, size_t K, const float *packed_a, const float *B,
                          size_t ldb, const float *bias, float *C, size_t ldc, float clamp_min,
                          float clamp_max);

    /// Floats needed to pack a K×N right-hand matrix for this path.
    size_t (*gemm_pack_b_size)(size_t N, size_t K);
    /// Packs B (K×N, or N×K when trans_b; row stride ldb) into `packed`.
    void (*gemm_pack_b)(size_t N, size_t K, const float *B, size_t ldb, bool trans_b, float *packed);
    /// C = clamp(A · packedB + bias[col]); A is M×K with row stride lda ≥ K.
    void (*gemm_packed_b)(size_t M, size_t N, size_t K, const float *A, size_t lda,
                          const float *packed_b, const float *bias, float *C, size_t ldc,
                          float clamp_min, float clamp_max);

    /// Floats of workspace `gemm` needs for these sizes (may be 0; then workspace may be NULL).
    size_t (*gemm_workspace_size)(size_t M, size_t N, size_t K, bool trans_b);
    /// C = clamp(A · op(B) + bias[col]) without pre-packing (B packed into `workspace` per call).
    void (*gemm)(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                 size_t ldb, bool trans_b, const float *bias, float *C, size_t ldc, float clamp_min,
                 float clamp_max, float *workspace);

    /// im2col of one NCHW image (C×H×W contiguous) into a (C·kh·kw) × (OH·OW) row-major matrix;
    /// row (c·kh + ky)·kw + kx matches OIHW weights flattened per output channel. Padding is 0.
    void (*im2col)(const flotilla_f32_conv2d_geometry *g, const float *input, float *columns);

    /// Depthwise convolution (depth multiplier 1) of one NCHW image: input C×H×W, weights C×kh×kw
    /// (ONNX [C,1,kh,kw]), bias C or NULL, output C×OH×OW contiguous, clamped.
    void (*dwconv)(const flotilla_f32_conv2d_geometry *g, const float *input, const float *weights,
                   const float *bias, float *output, float clamp_min, float clamp_max);
} flotilla_f32_kernels;

/// The table for this process, chosen once from flotilla_cpu_features_detect(): the widest path
/// the CPU and OS support. The environment variable FLOTILLA_KERNELS, read once, overrides it:
/// `reference` forces the reference kernels; `avx2` / `avx512` ask for that path (ignored when the
/// CPU cannot run it). Thread-safe; never NULL.
const flotilla_f32_kernels *flotilla_f32_kernels_get(void);

/// The table for a named path ("reference", "avx2", "avx512"), or NULL when the name is unknown
/// or this CPU cannot run that path. Lets tests run every path the machine supports.
const flotilla_f32_kernels *flotilla_f32_kernels_named(const char *name);

// Convenience entry points through flotilla_f32_kernels_get(); see the table for semantics.
size_t flotilla_f32_gemm_pack_a_size(size_t M, size_t K);
void flotilla_f32_gemm_pack_a(size_t M, size_t K, const float *A, size_t lda, float *packed);
void flotilla_f32_gemm_packed_a(size_t M, size_t N, size_t K, const float *packed_a,
                                const float *B, size_t ldb, const float *bias, float *C,
                                size_t ldc, float clamp_min, float clamp_max);
size_t flotilla_f32_gemm_pack_b_size(size_t N, size_t K);
void flotilla_f32_gemm_pack_b(size_t N, size_t K, const float *B, size_t ldb, bool trans_b,
                              float *packed);
void flotilla_f32_gemm_packed_b(size_t M, size_t N, size_t K, const float *A, size_t lda,
                                const float *packed_b, const float *bias, float *C, size_t ldc,
                                float clamp_min, float clamp_max);
size_t flotilla_f32_gemm_workspace_size(size_t M, size_t N, size_t K, bool trans_b);
void flotilla_f32_gemm(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                       size_t ldb, bool trans_b, const float *bias, float *C, size_t ldc,
                       float clamp_min, float clamp_max, float *workspace);
void flotilla_f32_im2col(const flotilla_f32_conv2d_geometry *g, const float *input,
                         float *columns);
void flotilla_f32_dwconv(const flotilla_f32_conv2d_geometry *g, const float *input,
                         const float *weights, const float *bias, float *output, float clamp_min,
                         float clamp_max);

// Pre-packing for another host: an artifact builder packs constant right-hand matrices in the
// layout a device's path will read, whatever CPU the builder runs on (packing is plain C). The
// packed form of op(B) depends only on the path's panel width `nr`, N, K and the values (not on
// M, nor on trans_b once packed): [panel][k][nr], columns past N zero. The reference path reads
// plain row-major K×N, described here as nr = 0.

/// The panel width of the named path's `gemm_pack_b` ("reference" → 0, "avx2" → 16, "avx512" →
/// 32) in *nr; false for an unknown name. Does not depend on this CPU's features.
bool flotilla_f32_gemm_pack_b_layout_named(const char *name, size_t *nr);
/// Floats of a packed op(B) of this layout: K·N for nr = 0, ⌈N/nr⌉·nr·K otherwise.
size_t flotilla_f32_gemm_pack_b_size_nr(size_t N, size_t K, size_t nr);
/// Packs op(B) (B K×N, or N×K when trans_b; row stride ldb) exactly as that path's `gemm_pack_b`.
void flotilla_f32_gemm_pack_b_nr(size_t N, size_t K, const float *B, size_t ldb, bool trans_b,
                                 size_t nr, float *packed);
/// The inverse: op(B) as row-major K×N (N floats per row) from a buffer packed with `nr`.
void flotilla_f32_gemm_unpack_b_nr(size_t N, size_t K, const float *packed, size_t nr, float *B);

#ifdef __cplusplus
}
#endif

#endif
