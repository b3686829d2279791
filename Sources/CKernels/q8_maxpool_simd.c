// int8 max pooling with 16-byte vectors (SSE encodings under the AVX2 target on x86, NEON on
// ARM64), byte for byte the reference's result: a max of bytes is exact by construction. s8
// bytes are XORed with 0x80, which maps int8 order onto uint8 order, so one unsigned byte max
// (PMAXUB / UMAX) serves both types; the type's lowest value is then byte 0.
//
// Per output row: the window rows inside the input; the interior columns (every window column
// inside the row) run as vectors of 16, 8 or 4 outputs for strides 1 and 2 — stride 2 takes the
// even bytes of a 2·width-byte load — with an overlapping last vector instead of a scalar tail; the
// border columns and other strides take the scalar per-output loop. A whole-plane window
// (GlobalMaxPool) is one vector reduction per plane.
#include "f32_internal.h"
#include "q8_internal.h"

#if defined(__x86_64__) || defined(__aarch64__)

#if defined(__x86_64__)
#include <immintrin.h>
#define TARGET __attribute__((target("avx2,fma")))
typedef __m128i v16;
static inline TARGET v16 load16(const uint8_t *p) { return _mm_loadu_si128((const __m128i *)(const void *)p); }
static inline TARGET v16 load8(const uint8_t *p) { return _mm_loadl_epi64((const __m128i *)(const void *)p); }
static inline TARGET void store16(uint8_t *p, v16 v) { _mm_storeu_si128((__m128i *)(void *)p, v); }
static inline TARGET void store8(uint8_t *p, v16 v) { _mm_storel_epi64((__m128i *)(void *)p, v); }
static inline TARGET v16 vmax(v16 a, v16 b) { return _mm_max_epu8(a, b); }
static inline TARGET v16 vxor(v16 a, v16 b) { return _mm_xor_si128(a, b); }
static inline TARGET v16 splat(uint8_t b) { return _mm_set1_epi8((char)b); }
// Even bytes of p[0 … 31] (16 of them) / of p[0 … 15] (8, in the low half).
static inline TARGET v16 even16(const uint8_t *p) {
    const __m128i lo = _mm_set1_epi16(0x00FF);
    return _mm_packus_epi16(_mm_and_si128(load16(p), lo), _mm_and_si128(load16(p + 16), lo));
}
static inline TARGET v16 even8(const uint8_t *p) {
    return _mm_packus_epi16(_mm_and_si128(load16(p), _mm_set1_epi16(0x00FF)), _mm_setzero_si128());
}
static inline TARGET v16 load4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm_cvtsi32_si128(v);
}
static inline TARGET void store4(uint8_t *p, v16 v) {
    const int32_t x = _mm_cvtsi128_si32(v);
    memcpy(p, &x, sizeof x);
}
static inline TARGET v16 even4(const uint8_t *p) {
    return _mm_packus_epi16(_mm_and_si128(load8(p), _mm_set1_epi16(0x00FF)), _mm_setzero_si128());
}
static inline TARGET uint8_t hmax(v16 v) {
    v = _mm_max_epu8(v, _mm_srli_si128(v, 8));
    v = _mm_max_epu8(v, _mm_srli_si128(v, 4));
    v = _mm_max_epu8(v, _mm_srli_si128(v, 2));
    v = _mm_max_epu8(v, _mm_srli_si128(v, 1));
    return (uint8_t)_mm_cvtsi128_si32(v);
}
#define MAXPOOL_NAME flotilla_q8_maxpool__avx2
#else
#include <arm_neon.h>
#define TARGET
typedef uint8x16_t v16;
static inline v16 load16(const uint8_t *p) { return vld1q_u8(p); }
static inline v16 load8(const uint8_t *p) { return vcombine_u8(vld1_u8(p), vdup_n_u8(0)); }
static inline void store16(uint8_t *p, v16 v) { vst1q_u8(p, v); }
static inline void store8(uint8_t *p, v16 v) { vst1_u8(p, vget_low_u8(v)); }
static inline v16 vmax(v16 a, v16 b) { return vmaxq_u8(a, b); }
static inline v16 vxor(v16 a, v16 b) { return veorq_u8(a, b); }
static inline v16 splat(uint8_t b) { return vdupq_n_u8(b); }
static inline v16 even16(const uint8_t *p) { return vld2q_u8(p).val[0]; }
static inline v16 even8(const uint8_t *p) { return vcombine_u8(vld2_u8(p).val[0], vdup_n_u8(0)); }
static inline uint8_t hmax(v16 v) { return vmaxvq_u8(v); }
static inline v16 load4(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return vreinterpretq_u8_u32(vdupq_n_u32(v));
}
static inline void store4(uint8_t *p, v16 v) {
    const uint32_t x = vgetq_lane_u32(vreinterpretq_u32_u8(v), 0);
    memcpy(p, &x, sizeof x);
}
static inline v16 even4(const uint8_t *p) {
    const uint8x8_t v = vld1_u8(p);
    return vcombine_u8(vuzp1_u8(v, v), vdup_n_u8(0));
}
#define MAXPOOL_NAME flotilla_q8_maxpool__neon
#endif

// One output, every tap bounds-checked (flipped domain: 0 is the type's lowest value).
static inline TARGET uint8_t pixel(const flotilla_f32_conv2d_geometry *g, const uint8_t *plane, uint8_t flip,
                                   size_t ky0, size_t ky1, ptrdiff_t y0, size_t ox) {
    uint8_t best = 0;
    const ptrdiff_t x0 = (ptrdiff_t)(ox * g->stride_w) - (ptrdiff_t)g->pad_left;
    for (size_t ky = ky0; ky < ky1; ky++) {
        const uint8_t *row = plane + (size_t)(y0 + (ptrdiff_t)(ky * g->dilation_h)) * g->in_w;
        for (size_t kx = 0; kx < g->kernel_w; kx++) {
            const ptrdiff_t ix = x0 + (ptrdiff_t)(kx * g->dilation_w);
            if (ix < 0 || ix >= (ptrdiff_t)g->in_w) continue;
            const uint8_t v = (uint8_t)(row[ix] ^ flip);
            if (v > best) best = v;
        }
    }
    return best;
}

// Outputs [ox, ox + width) of one row (width 16, 8 or 4), all taps inside the input.
static inline TARGET v16 block(const flotilla_f32_conv2d_geometry *g, const uint8_t *plane, v16 vflip,
                               size_t ky0, size_t ky1, ptrdiff_t y0, size_t ox, size_t width) {
    v16 best = splat(0);
    const size_t x0 = ox * g->stride_w - g->pad_left;
    for (size_t ky = ky0; ky < ky1; ky++) {
        const uint8_t *row = plane + (size_t)(y0 + (ptrdiff_t)(ky * g->dilation_h)) * g->in_w + x0;
        for (size_t kx = 0; kx < g->kernel_w; kx++) {
            const uint8_t *p = row + kx * g->dilation_w;
            v16 v;
            if (g->stride_w == 1) {
                v = width == 16 ? load16(p) : width == 8 ? load8(p) : load4(p);
            } else {
                v = width == 16 ? even16(p) : width == 8 ? even8(p) : even4(p);
            }
            best = vmax(best, vxor(v, vflip));
        }
    }
    return vxor(best, vflip);
}

static TARGET void global_max(const flotilla_f32_conv2d_geometry *g, uint8_t flip, const uint8_t *in, uint8_t *out) {
    const size_t n = g->in_h * g->in_w;
    const v16 vflip = splat(flip);
    for (size_t c = 0; c < g->channels; c++) {
        const uint8_t *p = in + c * n;
        uint8_t best = 0;
        size_t i = 0;
        if (n >= 16) {
            v16 acc = splat(0);
            for (; i + 16 <= n; i += 16) acc = vmax(acc, vxor(load16(p + i), vflip));
            best = hmax(acc);
        }
        for (; i < n; i++) {
            const uint8_t v = (uint8_t)(p[i] ^ flip);
            if (v > best) best = v;
        }
        out[c] = (uint8_t)(best ^ flip);
    }
}

TARGET void MAXPOOL_NAME(const flotilla_f32_conv2d_geometry *g, flotilla_q8_type type, const void *input,
                         void *output) {
    const uint8_t flip = type == FLOTILLA_Q8_S8 ? 0x80 : 0;
    const uint8_t *in = (const uint8_t *)input;
    uint8_t *out = (uint8_t *)output;
    if (g->kernel_h == g->in_h && g->kernel_w == g->in_w && g->pad_top == 0 && g->pad_left == 0 &&
        g->pad_bottom == 0 && g->pad_right == 0 && g->dilation_h == 1 && g->dilation_w == 1) {
        global_max(g, flip, in, out);
        return;
    }
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g);
    const size_t sw = g->stride_w, span_w = (g->kernel_w - 1) * g->dilation_w;
    size_t lo, hi;
    flotilla_f32_dwconv_interior_x(g, ow, &lo, &hi);
    // Stride 2 loads 2·width bytes from the first tap: the byte after the last even one may be
    // the first byte of the next row (read, never used). That is inside the tensor except on its
    // very last row, where vectors end one output earlier (`strict_hi`) when they would pass it.
    size_t strict_hi = hi;
    if (sw == 2) {
        while (strict_hi > lo && 2 * (strict_hi - 1) + span_w + 1 > g->in_w - 1 + g->pad_left) strict_hi--;
    }
    const bool vectors = sw <= 2 && hi > lo;
    const v16 vflip = splat(flip);
    for (size_t c = 0; c < g->channels; c++) {
        const uint8_t *plane = in + c * g->in_h * g->in_w;
        uint8_t *o = out + c * oh * ow;
        for (size_t oy = 0; oy < oh; oy++, o += ow) {
            const ptrdiff_t y0 = (ptrdiff_t)(oy * g->stride_h) - (ptrdiff_t)g->pad_top;
            // Window rows inside the input, as a tap range [ky0, ky1).
            const size_t dh = g->dilation_h;
            const size_t ky0 = y0 >= 0 ? 0 : (size_t)((-y0 + (ptrdiff_t)dh - 1) / (ptrdiff_t)dh);
            size_t ky1 = y0 < (ptrdiff_t)g->in_h ? (size_t)(((ptrdiff_t)g->in_h - y0 + (ptrdiff_t)dh - 1) / (ptrdiff_t)dh) : 0;
            if (ky1 > g->kernel_h) ky1 = g->kernel_h;
            if (ky0 >= ky1) {
                memset(o, flip, ow);  // no window row inside: the type's lowest value
                continue;
            }
            size_t ox = 0;
            if (vectors) {
                const bool last_row = c + 1 == g->channels && (size_t)y0 + (ky1 - 1) * dh + 1 == g->in_h;
                const size_t vhi = last_row ? strict_hi : hi;
                for (; ox < lo; ox++) o[ox] = (uint8_t)(pixel(g, plane, flip, ky0, ky1, y0, ox) ^ flip);
                const size_t count = vhi > lo ? vhi - lo : 0;
                // The widest vector that fits; an overlapping last vector recomputes a few
                // outputs to the same bytes instead of a scalar tail.
                const size_t width = count >= 16 ? 16 : count >= 8 ? 8 : count >= 4 ? 4 : 0;
                if (width > 0) {
                    for (; ox + width <= vhi; ox += width) {
                        const v16 v = block(g, plane, vflip, ky0, ky1, y0, ox, width);
                        width == 16 ? store16(o + ox, v) : width == 8 ? store8(o + ox, v) : store4(o + ox, v);
                    }
                    if (ox < vhi) {
                        const v16 v = block(g, plane, vflip, ky0, ky1, y0, vhi - width, width);
                        width == 16 ? store16(o + vhi - width, v) : width == 8 ? store8(o + vhi - width, v) : store4(o + vhi - width, v);
                    }
                    ox = vhi;
                }
            }
            for (; ox < ow; ox++) o[ox] = (uint8_t)(pixel(g, plane, flip, ky0, ky1, y0, ox) ^ flip);
        }
    }
}

#endif
