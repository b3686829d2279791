// AVX-512 depthwise convolution, NCHW: 16 output columns per vector, borders included. Each
// horizontal tap loads its input columns with a lane mask that zeroes the columns outside the
// input row (padding), so a border column costs what an interior one does; rows outside the
// input are skipped. A zeroed lane adds w·0 = 0, so the sum equals the reference's sum over
// in-bounds taps (same order, fused multiply-adds).
//
// The masks depend only on (column block, horizontal tap), not on the channel or row, so they
// are computed once per call into a small table; the per-channel loop is then loads and FMAs.
// Masked-off lanes are never read (AVX-512 suppresses their faults), which is what makes a
// load that starts left of the row (padding) safe.
#include "f32_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl")))
#define ALWAYS_INLINE static inline __attribute__((always_inline))

// Lanes [lo, hi) of 16, clamped to [0, 16].
static inline __mmask16 lane_range(ptrdiff_t lo, ptrdiff_t hi) {
    if (lo < 0) lo = 0;
    if (hi > 16) hi = 16;
    if (hi <= lo) return 0;
    return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u));
}

// Where one horizontal tap of one block of 16 output columns reads: the first input column
// (may be negative) and the masks of the valid columns among the 16 (stride 1) or 2×16
// (stride 2, even lanes kept) loaded from there.
typedef struct {
    ptrdiff_t base;
    __mmask16 lo, hi;
} tap_columns;

static inline tap_columns columns_for(const flotilla_f32_conv2d_geometry *g, size_t ox, size_t kx, ptrdiff_t n) {
    tap_columns t;
    t.base = (ptrdiff_t)(ox * g->stride_w + kx * g->dilation_w) - (ptrdiff_t)g->pad_left;
    const ptrdiff_t w = (ptrdiff_t)g->in_w;
    const ptrdiff_t span = g->stride_w == 2 ? 2 * n - 1 : n;
    // Column base + e is loaded for e in [0, span) ∩ [−base, w − base).
    t.lo = lane_range(-t.base, (span < w - t.base ? span : w - t.base));
    t.hi = lane_range(-t.base - 16, (span < w - t.base ? span : w - t.base) - 16);
    return t;
}

// Address arithmetic in integers: the start may lie left of the row, and only masked lanes are
// dereferenced.
static inline const float *shifted(const float *row, ptrdiff_t base) {
    return (const float *)((uintptr_t)row + (uintptr_t)(base * (ptrdiff_t)sizeof(float)));
}

ALWAYS_INLINE TARGET __m512 load_tap(const float *row, const tap_columns *t, size_t s, ptrdiff_t n, ptrdiff_t w) {
    if (s == 1) return _mm512_maskz_loadu_ps(t->lo, shifted(row, t->base));
    if (s == 2) {
        const __m512 lo = _mm512_maskz_loadu_ps(t->lo, shifted(row, t->base));
        const __m512 hi = _mm512_maskz_loadu_ps(t->hi, shifted(row, t->base + 16));
        const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        return _mm512_permutex2var_ps(lo, even, hi);
    }
    const __m512i index = _mm512_add_epi32(
        _mm512_set1_epi32((int)t->base),
        _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32((int)s)));
    const __mmask16 inside = _mm512_cmpge_epi32_mask(index, _mm512_setzero_si512()) &
                             _mm512_cmplt_epi32_mask(index, _mm512_set1_epi32((int)w)) & lane_range(0, n);
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), inside, index, row, 4);
}

// Kernel heights up to this run the vector path (the valid rows are listed on the stack).
#define MAX_KH 64

// Output columns [ox0, ox1) of one row from a tap table built for them (one entry per block
// of 16 columns and horizontal tap). KH and KW are compile-time constants for the 3×3 instance.
ALWAYS_INLINE TARGET void row(const size_t KH, const size_t KW, const flotilla_f32_conv2d_geometry *g,
                              const tap_columns *table, const float *plane, const float *w, float bias, size_t oy,
                              size_t ox0, size_t ox1, float *out, float lo, float hi) {
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    const size_t sw = g->stride_w;
    const ptrdiff_t in_w = (ptrdiff_t)g->in_w;
    // Rows of the input this output row reads (the rest is padding).
    const float *rows[MAX_KH];
    size_t valid[MAX_KH], count = 0;
    for (size_t ky = 0; ky < KH; ky++) {
        const ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
        if (iy < 0 || iy >= (ptrdiff_t)g->in_h) continue;
        rows[count] = plane + (size_t)iy * g->in_w;
        valid[count++] = ky;
    }
    for (size_t ox = ox0, block = 0; ox < ox1; ox += 16, block++) {
        const ptrdiff_t n = ox1 - ox < 16 ? (ptrdiff_t)(ox1 - ox) : 16;
        const tap_columns *taps = table + block * KW;
        __m512 acc = _mm512_set1_ps(bias);
        for (size_t r = 0; r < count; r++) {
            const float *wr = w + valid[r] * KW;
            for (size_t kx = 0; kx < KW; kx++) {
                const __m512 x = load_tap(rows[r], &taps[kx], sw, n, in_w);
                acc = _mm512_fmadd_ps(_mm512_set1_ps(wr[kx]), x, acc);
            }
        }
        acc = _mm512_min_ps(vhi, _mm512_max_ps(vlo, acc));
        _mm512_mask_storeu_ps(out + ox, lane_range(0, n), acc);
    }
}

// Channels [c0, c1), output columns [ox0, ox1), with the table built for those columns.
static TARGET void channels(const flotilla_f32_conv2d_geometry *g, const tap_columns *table, size_t c0, size_t c1,
                            size_t ox0, size_t ox1, const float *input, const float *weights, const float *bias,
                            float *output, float lo, float hi) {
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g);
    const size_t taps = g->kernel_h * g->kernel_w;
    const bool k3x3 = g->kernel_h == 3 && g->kernel_w == 3;
    for (size_t c = c0; c < c1; c++) {
        const float *plane = input + c * g->in_h * g->in_w;
        const float *w = weights + c * taps;
        const float b = bias != NULL ? bias[c] : 0.0f;
        for (size_t oy = 0; oy < oh; oy++) {
            float *out = output + (c * oh + oy) * ow;
            if (k3x3) {
                row(3, 3, g, table, plane, w, b, oy, ox0, ox1, out, lo, hi);
            } else {
                row(g->kernel_h, g->kernel_w, g, table, plane, w, b, oy, ox0, ox1, out, lo, hi);
            }
        }
    }
}

// Small planes (the late layers of mobile networks: 3×3 to 6×6 inputs and outputs) pay a
// row's bookkeeping for a few lanes. There the whole input plane (≤ 64 floats) is held in four
// registers and each tap of a block of 16 flattened output pixels is one or two register
// permutes with a precomputed index vector; padding lanes are zeroed by the permute's mask.
#define PLANE_IN 64
#define PLANE_OUT 64
#define PLANE_TAPS 32

typedef struct {
    __m512i index;
    __mmask16 lo, hi;  // lanes reading input [0, 32) and [32, 64); neither = padding
} plane_tap;

static bool plane_mode_fits(const flotilla_f32_conv2d_geometry *g, size_t oh, size_t ow) {
    return g->in_h * g->in_w <= PLANE_IN && oh * ow <= PLANE_OUT && g->kernel_h * g->kernel_w <= PLANE_TAPS;
}

static TARGET void plane_mode(const flotilla_f32_conv2d_geometry *g, size_t c0, size_t c1, const float *input,
                              const float *weights, const float *bias, float *output, float lo, float hi) {
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g);
    const size_t taps = g->kernel_h * g->kernel_w, outs = oh * ow, ins = g->in_h * g->in_w;
    const size_t blocks = (outs + 15) / 16;
    plane_tap table[(PLANE_OUT / 16) * PLANE_TAPS];
    for (size_t b = 0; b < blocks; b++) {
        for (size_t t = 0; t < taps; t++) {
            const size_t ky = t / g->kernel_w, kx = t % g->kernel_w;
            int32_t index[16] = {0};
            unsigned lo_bits = 0, hi_bits = 0;
            for (size_t l = 0; l < 16 && b * 16 + l < outs; l++) {
                const size_t p = b * 16 + l, oy = p / ow, ox = p % ow;
                const ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
                const ptrdiff_t ix = (ptrdiff_t)(ox * g->stride_w + kx * g->dilation_w) - (ptrdiff_t)g->pad_left;
                if (iy < 0 || iy >= (ptrdiff_t)g->in_h || ix < 0 || ix >= (ptrdiff_t)g->in_w) continue;
                const size_t at = (size_t)iy * g->in_w + (size_t)ix;
                index[l] = (int32_t)(at & 31);
                if (at < 32) lo_bits |= 1u << l; else hi_bits |= 1u << l;
            }
            plane_tap *e = &table[b * taps + t];
            e->index = _mm512_loadu_si512(index);
            e->lo = (__mmask16)lo_bits;
            e->hi = (__mmask16)hi_bits;
        }
    }
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    const bool two = ins > 32;
    for (size_t c = c0; c < c1; c++) {
        const float *plane = input + c * ins;
        const __m512 r0 = _mm512_maskz_loadu_ps(lane_range(0, (ptrdiff_t)ins), plane);
        const __m512 r1 = _mm512_maskz_loadu_ps(lane_range(0, (ptrdiff_t)ins - 16), plane + 16);
        const __m512 r2 = two ? _mm512_maskz_loadu_ps(lane_range(0, (ptrdiff_t)ins - 32), plane + 32) : _mm512_setzero_ps();
        const __m512 r3 = two ? _mm512_maskz_loadu_ps(lane_range(0, (ptrdiff_t)ins - 48), plane + 48) : _mm512_setzero_ps();
        const float *w = weights + c * taps;
        const float b0 = bias != NULL ? bias[c] : 0.0f;
        float *out = output + c * outs;
        for (size_t b = 0; b < blocks; b++) {
            const plane_tap *e = &table[b * taps];
            __m512 acc = _mm512_set1_ps(b0);
            for (size_t t = 0; t < taps; t++) {
                __m512 x = _mm512_maskz_permutex2var_ps(e[t].lo, r0, e[t].index, r1);
                if (two) x = _mm512_mask_blend_ps(e[t].hi, x, _mm512_maskz_permutex2var_ps(e[t].hi, r2, e[t].index, r3));
                acc = _mm512_fmadd_ps(_mm512_set1_ps(w[t]), x, acc);
            }
            acc = _mm512_min_ps(vhi, _mm512_max_ps(vlo, acc));
            _mm512_mask_storeu_ps(out + b * 16, lane_range(0, (ptrdiff_t)(outs - b * 16)), acc);
        }
    }
}

// Tables up to this many entries live on the stack; wider rows go in slices of output columns,
// each with its own table.
#define TABLE_ENTRIES 256

void flotilla_f32_dwconv_channels__avx512f(const flotilla_f32_conv2d_geometry *g, size_t c0, size_t c1,
                                           const float *input, const float *weights, const float *bias,
                                           float *output, float lo, float hi);

TARGET void flotilla_f32_dwconv_channels__avx512f(const flotilla_f32_conv2d_geometry *g, size_t c0, size_t c1,
                                                  const float *input, const float *weights, const float *bias,
                                                  float *output, float lo, float hi) {
    const size_t ow = flotilla_f32_conv2d_out_w(g), kw = g->kernel_w;
    if (plane_mode_fits(g, flotilla_f32_conv2d_out_h(g), ow)) {
        plane_mode(g, c0, c1, input, weights, bias, output, lo, hi);
        return;
    }
    if (kw > TABLE_ENTRIES || g->kernel_h > MAX_KH) {
        // Absurdly large kernels: the reference pixel loop.
        const size_t oh = flotilla_f32_conv2d_out_h(g), taps = g->kernel_h * kw;
        for (size_t c = c0; c < c1; c++) {
            const float *plane = input + c * g->in_h * g->in_w;
            const float b = bias != NULL ? bias[c] : 0.0f;
            for (size_t oy = 0; oy < oh; oy++)
                for (size_t ox = 0; ox < ow; ox++)
                    output[(c * oh + oy) * ow + ox] =
                        flotilla_f32_clamp(flotilla_f32_dwconv_pixel(g, plane, weights + c * taps, b, oy, ox), lo, hi);
        }
        return;
    }
    const size_t slice = (TABLE_ENTRIES / kw) * 16;
    tap_columns table[TABLE_ENTRIES];
    for (size_t ox0 = 0; ox0 < ow; ox0 += slice) {
        const size_t ox1 = ow - ox0 < slice ? ow : ox0 + slice;
        for (size_t ox = ox0, b = 0; ox < ox1; ox += 16, b++) {
            const ptrdiff_t n = ox1 - ox < 16 ? (ptrdiff_t)(ox1 - ox) : 16;
            for (size_t kx = 0; kx < kw; kx++) table[b * kw + kx] = columns_for(g, ox, kx, n);
        }
        channels(g, table, c0, c1, ox0, ox1, input, weights, bias, output, lo, hi);
    }
}

TARGET void flotilla_f32_dwconv__avx512f(const flotilla_f32_conv2d_geometry *g,
                                         const float *input, const float *weights,
                                         const float *bias, float *output, float lo, float hi) {
    flotilla_f32_dwconv_channels__avx512f(g, 0, g->channels, input, weights, bias, output, lo, hi);
}

#endif
