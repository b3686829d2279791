// AVX-512 depthwise convolution, NCHW: 16 output columns per vector. Each output row splits
// into a left border, an interior where every horizontal tap is inside the input row, and a
// right border; the interior is vectorized (masked tail), the borders use the shared scalar
// pixel so padding is handled exactly as in the reference.
#include "f32_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl")))
#define ALWAYS_INLINE static inline __attribute__((always_inline))

static inline __mmask16 lanes(size_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
}

// n ≤ 16 input elements p[0], p[s], …, p[(n−1)·s]; lanes past n are 0 and never read.
ALWAYS_INLINE TARGET __m512 load_strided(const float *p, size_t s, size_t n) {
    if (s == 1) return _mm512_maskz_loadu_ps(lanes(n), p);
    if (s == 2) {
        // Two contiguous loads covering the 2n − 1 elements read, then keep the even lanes.
        const size_t span = 2 * n - 1;
        const __m512 lo = _mm512_maskz_loadu_ps(lanes(span), p);
        const __m512 hi = span > 16 ? _mm512_maskz_loadu_ps(lanes(span - 16), p + 16) : _mm512_setzero_ps();
        const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        return _mm512_permutex2var_ps(lo, even, hi);
    }
    const __m512i index = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32((int)s));
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), lanes(n), index, p, 4);
}

// One output row. KH and KW are compile-time constants for the 3×3 instance (the taps unroll
// and their weights stay in registers) and the runtime kernel size otherwise.
ALWAYS_INLINE TARGET void row(const size_t KH, const size_t KW, const flotilla_f32_conv2d_geometry *g,
                              const float *plane, const float *w, float bias, size_t oy, size_t ow,
                              size_t x_lo, size_t x_hi, float *out, float lo, float hi) {
    for (size_t ox = 0; ox < x_lo; ox++)
        out[ox] = flotilla_f32_clamp(flotilla_f32_dwconv_pixel(g, plane, w, bias, oy, ox), lo, hi);
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    const size_t sw = g->stride_w;
    for (size_t ox = x_lo; ox < x_hi; ox += 16) {
        const size_t n = x_hi - ox < 16 ? x_hi - ox : 16;
        __m512 acc = _mm512_set1_ps(bias);
        for (size_t ky = 0; ky < KH; ky++) {
            const ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
            if (iy < 0 || iy >= (ptrdiff_t)g->in_h) continue;
            // Interior columns: ox·s + kx·d − pad_left ≥ 0 for every tap.
            const float *in = plane + (size_t)iy * g->in_w + ox * sw - g->pad_left;
            for (size_t kx = 0; kx < KW; kx++) {
                const __m512 x = load_strided(in + kx * g->dilation_w, sw, n);
                acc = _mm512_fmadd_ps(_mm512_set1_ps(w[ky * KW + kx]), x, acc);
            }
        }
        acc = _mm512_min_ps(vhi, _mm512_max_ps(vlo, acc));
        _mm512_mask_storeu_ps(out + ox, lanes(n), acc);
    }
    for (size_t ox = x_hi; ox < ow; ox++)
        out[ox] = flotilla_f32_clamp(flotilla_f32_dwconv_pixel(g, plane, w, bias, oy, ox), lo, hi);
}

TARGET void flotilla_f32_dwconv__avx512f(const flotilla_f32_conv2d_geometry *g,
                                         const float *input, const float *weights,
                                         const float *bias, float *output, float lo, float hi) {
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g);
    const size_t taps = g->kernel_h * g->kernel_w;
    size_t x_lo, x_hi;
    flotilla_f32_dwconv_interior_x(g, ow, &x_lo, &x_hi);
    const bool k3x3 = g->kernel_h == 3 && g->kernel_w == 3;
    for (size_t c = 0; c < g->channels; c++) {
        const float *plane = input + c * g->in_h * g->in_w;
        const float *w = weights + c * taps;
        const float b = bias != NULL ? bias[c] : 0.0f;
        for (size_t oy = 0; oy < oh; oy++) {
            float *out = output + (c * oh + oy) * ow;
            if (k3x3) {
                row(3, 3, g, plane, w, b, oy, ow, x_lo, x_hi, out, lo, hi);
            } else {
                row(g->kernel_h, g->kernel_w, g, plane, w, b, oy, ow, x_lo, x_hi, out, lo, hi);
            }
        }
    }
}

#endif
