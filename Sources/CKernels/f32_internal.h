// Private to CKernels: per-path fp32 entry points (XNNPACK-style names: datatype, op, tile, ISA)
// and the small scalar helpers every path shares so border handling is identical everywhere.
#ifndef FLOTILLA_F32_INTERNAL_H
#define FLOTILLA_F32_INTERNAL_H

#include "ckernels.h"

// K is cut into blocks of this many steps so the B sliver a microkernel reuses across all
// row tiles (KC × NR floats) stays in the 32 KiB L1 data cache: 128 × 32 × 4 B = 16 KiB.
#define FLOTILLA_F32_GEMM_KC 128

// NaN-propagating clamp, written to match the vector form min(hi, max(lo, x)) with x second.
static inline float flotilla_f32_clamp(float x, float lo, float hi) {
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}

// One depthwise output pixel with every tap bounds-checked: the reference inner loop, and the
// border pixels of the optimized paths (so borders are computed the same way on every path).
static inline float flotilla_f32_dwconv_pixel(const flotilla_f32_conv2d_geometry *g,
                                              const float *plane, const float *w, float bias,
                                              size_t oy, size_t ox) {
    float acc = bias;
    for (size_t ky = 0; ky < g->kernel_h; ky++) {
        // Input coordinates are computed in signed arithmetic: padding makes them negative.
        const ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
        if (iy < 0 || iy >= (ptrdiff_t)g->in_h) continue;
        for (size_t kx = 0; kx < g->kernel_w; kx++) {
            const ptrdiff_t ix =
                (ptrdiff_t)(ox * g->stride_w + kx * g->dilation_w) - (ptrdiff_t)g->pad_left;
            if (ix < 0 || ix >= (ptrdiff_t)g->in_w) continue;
            acc += w[ky * g->kernel_w + kx] * plane[(size_t)iy * g->in_w + (size_t)ix];
        }
    }
    return acc;
}

// Range [lo, hi) of output columns whose every horizontal tap lies inside the input row; the
// optimized paths vectorize this interior and compute the rest with flotilla_f32_dwconv_pixel.
void flotilla_f32_dwconv_interior_x(const flotilla_f32_conv2d_geometry *g, size_t out_w,
                                    size_t *lo, size_t *hi);

// Reference path: the obviously-correct loops; packing is a plain row-major copy.
size_t flotilla_f32_gemm_pack_a_size__ref(size_t M, size_t K);
void flotilla_f32_gemm_pack_a__ref(size_t M, size_t K, const float *A, size_t lda, float *packed);
void flotilla_f32_gemm_packed_a__ref(size_t M, size_t N, size_t K, const float *packed_a,
                                     const float *B, size_t ldb, const float *bias, float *C,
                                     size_t ldc, float lo, float hi);
size_t flotilla_f32_gemm_pack_b_size__ref(size_t N, size_t K);
void flotilla_f32_gemm_pack_b__ref(size_t N, size_t K, const float *B, size_t ldb, bool trans_b,
                                   float *packed);
void flotilla_f32_gemm_packed_b__ref(size_t M, size_t N, size_t K, const float *A, size_t lda,
                                     const float *packed_b, const float *bias, float *C,
                                     size_t ldc, float lo, float hi);
size_t flotilla_f32_gemm_workspace_size__ref(size_t M, size_t N, size_t K, bool trans_b);
void flotilla_f32_gemm__ref(size_t M, size_t N, size_t K, const float *A, size_t lda,
                            const float *B, size_t ldb, bool trans_b, const float *bias, float *C,
                            size_t ldc, float lo, float hi, float *workspace);
void flotilla_f32_im2col__ref(const flotilla_f32_conv2d_geometry *g, const float *input,
                              float *columns);
void flotilla_f32_dwconv__ref(const flotilla_f32_conv2d_geometry *g, const float *input,
                              const float *weights, const float *bias, float *output, float lo,
                              float hi);

// Portable optimized im2col (row copies; memcpy for stride 1), shared by the SIMD paths:
// im2col is data movement, so ISA-specific code buys nothing over memcpy.
void flotilla_f32_im2col__rowcopy(const flotilla_f32_conv2d_geometry *g, const float *input,
                                  float *columns);

// AVX2 + FMA path: GEMM microkernel tile 6×16, depthwise 8 lanes.
size_t flotilla_f32_gemm_pack_a_size__avx2_fma(size_t M, size_t K);
void flotilla_f32_gemm_pack_a_6x16__avx2_fma(size_t M, size_t K, const float *A, size_t lda,
                                             float *packed);
void flotilla_f32_gemm_packed_a_6x16__avx2_fma(size_t M, size_t N, size_t K,
                                               const float *packed_a, const float *B, size_t ldb,
                                               const float *bias, float *C, size_t ldc, float lo,
                                               float hi);
size_t flotilla_f32_gemm_pack_b_size__avx2_fma(size_t N, size_t K);
void flotilla_f32_gemm_pack_b_6x16__avx2_fma(size_t N, size_t K, const float *B, size_t ldb,
                                             bool trans_b, float *packed);
void flotilla_f32_gemm_packed_b_6x16__avx2_fma(size_t M, size_t N, size_t K, const float *A,
                                               size_t lda, const float *packed_b,
                                               const float *bias, float *C, size_t ldc, float lo,
                                               float hi);
size_t flotilla_f32_gemm_workspace_size__avx2_fma(size_t M, size_t N, size_t K, bool trans_b);
void flotilla_f32_gemm_6x16__avx2_fma(size_t M, size_t N, size_t K, const float *A, size_t lda,
                                      const float *B, size_t ldb, bool trans_b, const float *bias,
                                      float *C, size_t ldc, float lo, float hi, float *workspace);
void flotilla_f32_dwconv__avx2_fma(const flotilla_f32_conv2d_geometry *g, const float *input,
                                   const float *weights, const float *bias, float *output,
                                   float lo, float hi);

// AVX-512 path: GEMM microkernel tile 8×32, depthwise 16 lanes with masked tails.
size_t flotilla_f32_gemm_pack_a_size__avx512f(size_t M, size_t K);
void flotilla_f32_gemm_pack_a_8x32__avx512f(size_t M, size_t K, const float *A, size_t lda,
                                            float *packed);
void flotilla_f32_gemm_packed_a_8x32__avx512f(size_t M, size_t N, size_t K,
                                              const float *packed_a, const float *B, size_t ldb,
                                              const float *bias, float *C, size_t ldc, float lo,
                                              float hi);
size_t flotilla_f32_gemm_pack_b_size__avx512f(size_t N, size_t K);
void flotilla_f32_gemm_pack_b_8x32__avx512f(size_t N, size_t K, const float *B, size_t ldb,
                                            bool trans_b, float *packed);
void flotilla_f32_gemm_packed_b_8x32__avx512f(size_t M, size_t N, size_t K, const float *A,
                                              size_t lda, const float *packed_b,
                                              const float *bias, float *C, size_t ldc, float lo,
                                              float hi);
size_t flotilla_f32_gemm_workspace_size__avx512f(size_t M, size_t N, size_t K, bool trans_b);
void flotilla_f32_gemm_8x32__avx512f(size_t M, size_t N, size_t K, const float *A, size_t lda,
                                     const float *B, size_t ldb, bool trans_b, const float *bias,
                                     float *C, size_t ldc, float lo, float hi, float *workspace);
void flotilla_f32_dwconv__avx512f(const flotilla_f32_conv2d_geometry *g, const float *input,
                                  const float *weights, const float *bias, float *output,
                                  float lo, float hi);

// Packing shared by the SIMD paths: A in panels of `mr` rows ([panel][k][mr], zero-padded),
// B in panels of `nr` columns ([panel][k][nr], zero-padded).
void flotilla_f32_pack_a_panels(size_t M, size_t K, const float *A, size_t lda, size_t mr,
                                float *packed);
void flotilla_f32_pack_b_panels(size_t N, size_t K, const float *B, size_t ldb, bool trans_b,
                                size_t nr, float *packed);

#endif
