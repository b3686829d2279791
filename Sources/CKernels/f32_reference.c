// Reference fp32 kernels: the obviously-correct loops every optimized path is tested against.
// Sums run in float, in increasing k, bias added last; this file is also the fallback path
// (FLOTILLA_KERNELS=reference) and so stays compiled with the target's -O2.
#include "f32_internal.h"

#include <string.h>

// The reference "packed" A is A itself, row-major with row stride K.
size_t flotilla_f32_gemm_pack_a_size__ref(size_t M, size_t K) { return M * K; }

void flotilla_f32_gemm_pack_a__ref(size_t M, size_t K, const float *A, size_t lda, float *packed) {
    for (size_t m = 0; m < M; m++) {
        for (size_t k = 0; k < K; k++) packed[m * K + k] = A[m * lda + k];
    }
}

void flotilla_f32_gemm_packed_a__ref(size_t M, size_t N, size_t K, const float *packed_a,
                                     const float *B, size_t ldb, const float *bias, float *C,
                                     size_t ldc, float lo, float hi) {
    // Row m of C is the accumulator: each C[m][n] = (((0 + a0·b0) + a1·b1) + …) + bias, the
    // same per-element order as an inner-product loop, with B read along its rows.
    for (size_t m = 0; m < M; m++) {
        float *c = C + m * ldc;
        for (size_t n = 0; n < N; n++) c[n] = 0.0f;
        for (size_t k = 0; k < K; k++) {
            const float a = packed_a[m * K + k];
            for (size_t n = 0; n < N; n++) c[n] += a * B[k * ldb + n];
        }
        for (size_t n = 0; n < N; n++) {
            const float acc = bias != NULL ? c[n] + bias[m] : c[n];
            c[n] = flotilla_f32_clamp(acc, lo, hi);
        }
    }
}

// The reference packed B is op(B) as a plain K×N row-major matrix.
size_t flotilla_f32_gemm_pack_b_size__ref(size_t N, size_t K) { return K * N; }

void flotilla_f32_gemm_pack_b__ref(size_t N, size_t K, const float *B, size_t ldb, bool trans_b,
                                   float *packed) {
    for (size_t k = 0; k < K; k++) {
        for (size_t n = 0; n < N; n++) packed[k * N + n] = trans_b ? B[n * ldb + k] : B[k * ldb + n];
    }
}

void flotilla_f32_gemm_packed_b__ref(size_t M, size_t N, size_t K, const float *A, size_t lda,
                                     const float *packed_b, const float *bias, float *C,
                                     size_t ldc, float lo, float hi) {
    flotilla_f32_gemm__ref(M, N, K, A, lda, packed_b, N, false, bias, C, ldc, lo, hi, NULL);
}

size_t flotilla_f32_gemm_workspace_size__ref(size_t M, size_t N, size_t K, bool trans_b) {
    (void)M, (void)N, (void)K, (void)trans_b;
    return 0;
}

void flotilla_f32_gemm__ref(size_t M, size_t N, size_t K, const float *A, size_t lda,
                            const float *B, size_t ldb, bool trans_b, const float *bias, float *C,
                            size_t ldc, float lo, float hi, float *workspace) {
    (void)workspace;
    if (!trans_b) {
        // op(B) = B is row-major K×N: the packed-A loop order applies (A row-major is packed A).
        for (size_t m = 0; m < M; m++) {
            float *c = C + m * ldc;
            for (size_t n = 0; n < N; n++) c[n] = 0.0f;
            for (size_t k = 0; k < K; k++) {
                const float a = A[m * lda + k];
                for (size_t n = 0; n < N; n++) c[n] += a * B[k * ldb + n];
            }
            for (size_t n = 0; n < N; n++) {
                const float acc = bias != NULL ? c[n] + bias[n] : c[n];
                c[n] = flotilla_f32_clamp(acc, lo, hi);
            }
        }
        return;
    }
    for (size_t m = 0; m < M; m++) {
        for (size_t n = 0; n < N; n++) {
            float acc = 0.0f;
            for (size_t k = 0; k < K; k++) {
                acc += A[m * lda + k] * B[n * ldb + k];
            }
            if (bias != NULL) acc += bias[n];
            C[m * ldc + n] = flotilla_f32_clamp(acc, lo, hi);
        }
    }
}

void flotilla_f32_im2col__ref(const flotilla_f32_conv2d_geometry *g, const float *input,
                              float *columns) {
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g);
    size_t row = 0;
    for (size_t c = 0; c < g->channels; c++) {
        const float *plane = input + c * g->in_h * g->in_w;
        for (size_t ky = 0; ky < g->kernel_h; ky++) {
            for (size_t kx = 0; kx < g->kernel_w; kx++, row++) {
                float *out = columns + row * oh * ow;
                for (size_t oy = 0; oy < oh; oy++) {
                    for (size_t ox = 0; ox < ow; ox++) {
                        // Signed: padding puts taps before the first row/column.
                        const ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
                        const ptrdiff_t ix = (ptrdiff_t)(ox * g->stride_w + kx * g->dilation_w) - (ptrdiff_t)g->pad_left;
                        const bool inside = iy >= 0 && iy < (ptrdiff_t)g->in_h && ix >= 0 && ix < (ptrdiff_t)g->in_w;
                        out[oy * ow + ox] = inside ? plane[(size_t)iy * g->in_w + (size_t)ix] : 0.0f;
                    }
                }
            }
        }
    }
}

void flotilla_f32_dwconv__ref(const flotilla_f32_conv2d_geometry *g, const float *input,
                              const float *weights, const float *bias, float *output, float lo,
                              float hi) {
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g);
    const size_t taps = g->kernel_h * g->kernel_w;
    for (size_t c = 0; c < g->channels; c++) {
        const float *plane = input + c * g->in_h * g->in_w;
        const float b = bias != NULL ? bias[c] : 0.0f;
        for (size_t oy = 0; oy < oh; oy++) {
            for (size_t ox = 0; ox < ow; ox++) {
                const float v = flotilla_f32_dwconv_pixel(g, plane, weights + c * taps, b, oy, ox);
                output[(c * oh + oy) * ow + ox] = flotilla_f32_clamp(v, lo, hi);
            }
        }
    }
}

// Entries of the small-output offset map (16 KiB of stack).
#define SMALL_IM2COL 4096

// Rows are short in small convolutions (4 columns in the digits CNN), where a memset/memcpy
// call per row costs more than the copy: the loops stay loops (the attribute stops the compiler
// from turning them back into library calls) and still vectorize for long rows. clang spells
// it no_builtin; gcc (the ARM64 cross build) disables the loop-to-memset pattern instead.
#if defined(__clang__)
#define FLOTILLA_LOOPS_NOT_LIBCALLS __attribute__((no_builtin("memset", "memcpy")))
#else
#define FLOTILLA_LOOPS_NOT_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif

FLOTILLA_LOOPS_NOT_LIBCALLS
void flotilla_f32_im2col__rowcopy(const flotilla_f32_conv2d_geometry *g, const float *input,
                                  float *columns) {
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g);
    const size_t sw = g->stride_w, pl = g->pad_left, w = g->in_w;
    float *out = columns;
    const size_t taps = g->kernel_h * g->kernel_w;
    if (taps * oh * ow <= SMALL_IM2COL) {
        // Small outputs: the per-row bookkeeping would dominate, so the source offset of every
        // (tap, output pixel) is computed once (the same for every channel; −1 = padding) and
        // each channel is one pass over that map.
        int32_t map[SMALL_IM2COL];
        size_t i = 0;
        for (size_t ky = 0; ky < g->kernel_h; ky++)
            for (size_t kx = 0; kx < g->kernel_w; kx++)
                for (size_t oy = 0; oy < oh; oy++) {
                    const ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
                    for (size_t ox = 0; ox < ow; ox++, i++) {
                        const ptrdiff_t ix = (ptrdiff_t)(ox * sw + kx * g->dilation_w) - (ptrdiff_t)pl;
                        const bool inside = iy >= 0 && iy < (ptrdiff_t)g->in_h && ix >= 0 && ix < (ptrdiff_t)w;
                        map[i] = inside ? (int32_t)(iy * (ptrdiff_t)w + ix) : -1;
                    }
                }
        const size_t n = taps * oh * ow;
        for (size_t c = 0; c < g->channels; c++, out += n) {
            const float *plane = input + c * g->in_h * w;
            for (size_t j = 0; j < n; j++) out[j] = map[j] >= 0 ? plane[map[j]] : 0.0f;
        }
        return;
    }
    for (size_t c = 0; c < g->channels; c++) {
        const float *plane = input + c * g->in_h * w;
        for (size_t ky = 0; ky < g->kernel_h; ky++) {
            for (size_t kx = 0; kx < g->kernel_w; kx++) {
                // Column ox reads ix = ox·s + off − pad_left; the columns inside the row form one
                // range [x0, x1), the same for every output row, and the rest are padding zeros.
                const size_t off = kx * g->dilation_w;
                size_t x0 = pl > off ? (pl - off + sw - 1) / sw : 0;
                size_t x1 = w - 1 + pl >= off ? (w - 1 + pl - off) / sw + 1 : 0;
                if (x1 > ow) x1 = ow;
                if (x0 > x1) x0 = x1;
                for (size_t oy = 0; oy < oh; oy++, out += ow) {
                    const ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
                    if (iy < 0 || iy >= (ptrdiff_t)g->in_h || x0 == x1) {
                        for (size_t ox = 0; ox < ow; ox++) out[ox] = 0.0f;
                        continue;
                    }
                    const float *src = plane + (size_t)iy * w + (x0 * sw + off - pl);
                    for (size_t ox = 0; ox < x0; ox++) out[ox] = 0.0f;
                    if (sw == 1) {
                        for (size_t ox = x0; ox < x1; ox++) out[ox] = src[ox - x0];
                    } else {
                        for (size_t ox = x0; ox < x1; ox++) out[ox] = src[(ox - x0) * sw];
                    }
                    for (size_t ox = x1; ox < ow; ox++) out[ox] = 0.0f;
                }
            }
        }
    }
}
