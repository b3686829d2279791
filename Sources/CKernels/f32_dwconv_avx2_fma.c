// AVX2 + FMA depthwise convolution, NCHW: 8 output columns per vector; same border/interior
// split as the AVX-512 path (see f32_dwconv_avx512f.c). Strides above 1 use gathers.
#include "f32_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma")))
#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE TARGET __m256i lanes(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n > 8 ? 8 : n)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// n ≤ 8 input elements p[0], p[s], …, p[(n−1)·s]; lanes past n are 0 and never read.
ALWAYS_INLINE TARGET __m256 load_strided(const float *p, size_t s, size_t n, __m256i mask) {
    if (s == 1) return n == 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, mask);
    const __m256i index = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7),
                                             _mm256_set1_epi32((int)s));
    return _mm256_mask_i32gather_ps(_mm256_setzero_ps(), p, index, _mm256_castsi256_ps(mask), 4);
}

ALWAYS_INLINE TARGET void row(const size_t KH, const size_t KW, const flotilla_f32_conv2d_geometry *g,
                              const float *plane, const float *w, float bias, size_t oy, size_t ow,
                              size_t x_lo, size_t x_hi, float *out, float lo, float hi) {
    for (size_t ox = 0; ox < x_lo; ox++)
        out[ox] = flotilla_f32_clamp(flotilla_f32_dwconv_pixel(g, plane, w, bias, oy, ox), lo, hi);
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    const size_t sw = g->stride_w;
    for (size_t ox = x_lo; ox < x_hi; ox += 8) {
        const size_t n = x_hi - ox < 8 ? x_hi - ox : 8;
        const __m256i mask = lanes(n);
        __m256 acc = _mm256_set1_ps(bias);
        for (size_t ky = 0; ky < KH; ky++) {
            const ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
            if (iy < 0 || iy >= (ptrdiff_t)g->in_h) continue;
            const float *in = plane + (size_t)iy * g->in_w + ox * sw - g->pad_left;
            for (size_t kx = 0; kx < KW; kx++) {
                const __m256 x = load_strided(in + kx * g->dilation_w, sw, n, mask);
                acc = _mm256_fmadd_ps(_mm256_set1_ps(w[ky * KW + kx]), x, acc);
            }
        }
        acc = _mm256_min_ps(vhi, _mm256_max_ps(vlo, acc));
        if (n == 8) {
            _mm256_storeu_ps(out + ox, acc);
        } else {
            _mm256_maskstore_ps(out + ox, mask, acc);
        }
    }
    for (size_t ox = x_hi; ox < ow; ox++)
        out[ox] = flotilla_f32_clamp(flotilla_f32_dwconv_pixel(g, plane, w, bias, oy, ox), lo, hi);
}

TARGET void flotilla_f32_dwconv__avx2_fma(const flotilla_f32_conv2d_geometry *g,
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
