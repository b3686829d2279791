// The int8 depthwise convolution body shared by the optimized paths, compiled once per ISA by
// the files that include it (q8_dwconv.c: x86 and NEON; q8_dwconv_neondot.c: the dot-product
// target). Each output row splits into a left border, an interior where every horizontal tap
// lies inside the input row, and a right border. The interior accumulates tap by tap over a run
// of output columns (w · (x − z_x), int32: loops the compiler vectorizes for the file's ISA),
// the borders use the reference's own pixel function. Planes whose padded copy fits on the stack
// (every MobileNet-sized layer) skip the border split: the padded path below hands one channel's
// flat padded plane to the ISA's tap kernel (int16 pair multiply-adds, VPDPBUSD or SDOT over
// tap quads), which carries the zero point in its initial accumulator. Every path computes the
// reference's integers, so the bytes are the reference's by construction.
#ifndef FLOTILLA_Q8_DWCONV_BODY_H
#define FLOTILLA_Q8_DWCONV_BODY_H

#include <stdbool.h>
#include <string.h>

#include "f32_internal.h"
#include "q8_internal.h"

#define CHUNK 256

static inline __attribute__((always_inline, unused)) void interior_run(
    const flotilla_f32_conv2d_geometry *g, const uint8_t *plane, flotilla_q8_type t, int32_t zx,
    const int8_t *w, int32_t bias, size_t oy, size_t ox0, size_t count, int32_t *acc) {
    for (size_t i = 0; i < count; i++) acc[i] = bias;
    const size_t s = g->stride_w;
    for (size_t ky = 0; ky < g->kernel_h; ky++) {
        const ptrdiff_t iy = (ptrdiff_t)(oy * g->stride_h + ky * g->dilation_h) - (ptrdiff_t)g->pad_top;
        if (iy < 0 || iy >= (ptrdiff_t)g->in_h) continue;  // padded row: (z − z)·w = 0
        for (size_t kx = 0; kx < g->kernel_w; kx++) {
            const int32_t wv = w[ky * g->kernel_w + kx];
            // Interior: ox0·s + kx·d − pad_left ≥ 0 and the run's last tap < in_w.
            const uint8_t *src = plane + (size_t)iy * g->in_w + (ox0 * s + kx * g->dilation_w - g->pad_left);
            if (t == FLOTILLA_Q8_U8) {
                if (s == 1) {
                    for (size_t i = 0; i < count; i++) acc[i] += wv * ((int32_t)src[i] - zx);
                } else {
                    for (size_t i = 0; i < count; i++) acc[i] += wv * ((int32_t)src[i * s] - zx);
                }
            } else {
                const int8_t *ss = (const int8_t *)src;
                if (s == 1) {
                    for (size_t i = 0; i < count; i++) acc[i] += wv * ((int32_t)ss[i] - zx);
                } else {
                    for (size_t i = 0; i < count; i++) acc[i] += wv * ((int32_t)ss[i * s] - zx);
                }
            }
        }
    }
}

typedef void (*requant_run_fn)(const int32_t *acc, size_t n, int32_t mult, int32_t shift,
                               const flotilla_q8_requant *rq, uint8_t *out);

static inline __attribute__((unused)) void requant_run_scalar(const int32_t *acc, size_t n, int32_t mult,
                                                              int32_t shift, const flotilla_q8_requant *rq,
                                                              uint8_t *out) {
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)flotilla_q8_requant_scalar(acc[i], mult, shift, rq->zero_point, rq->qmin, rq->qmax);
    }
}

// Padded path. Border pixels cost a bounds test per tap and per-row runs are short on small
// planes (a 6×6 output is mostly vector tails), so when the padded plane fits on the stack each
// channel is copied into it, polyphase (sub-plane (r mod s_h, c mod s_w) holds padded rows
// r, columns c at (r / s_h, c / s_w)), with the zero point's byte in the padding
// ((z − z)·w = 0: exactly the reference's skipped taps). Every tap then reads one contiguous
// run over the whole output plane, computed at the sub-plane's pitch (the columns past the
// output width are computed and dropped), and the run is requantized in one go.
#define PADDED_MAX 16384
#define PADDED_TAPS 64
// Tap kernels compute whole vector blocks: they read up to a block past a tap's run and write up
// to a block past the flat output (columns and rows that are dropped).
#define PADDED_SLACK 64

typedef struct padded_layout {
    size_t rows, cols;       // padded extent the outputs read
    size_t sub_rows, pitch;  // one sub-plane: ⌈rows / s_h⌉ × ⌈cols / s_w⌉
    size_t sub_size, total;  // bytes of a sub-plane; of all of them plus the overrun slack
} padded_layout;

static inline __attribute__((always_inline, unused)) bool padded_layout_get(const flotilla_f32_conv2d_geometry *g,
                                                                           size_t oh, size_t ow,
                                                                           padded_layout *l) {
    if (g->kernel_h * g->kernel_w > PADDED_TAPS || g->stride_h > 8 || g->stride_w > 8) return false;
    l->rows = (oh - 1) * g->stride_h + (g->kernel_h - 1) * g->dilation_h + 1;
    l->cols = (ow - 1) * g->stride_w + (g->kernel_w - 1) * g->dilation_w + 1;
    if (l->rows > PADDED_MAX || l->cols > PADDED_MAX) return false;
    l->sub_rows = (l->rows + g->stride_h - 1) / g->stride_h;
    l->pitch = (l->cols + g->stride_w - 1) / g->stride_w;
    l->sub_size = l->sub_rows * l->pitch;
    // The last tap's run ends up to one pitch past its sub-plane (dropped columns only).
    l->total = g->stride_h * g->stride_w * l->sub_size + l->pitch;
    return l->sub_size <= PADDED_MAX && l->total <= PADDED_MAX && oh * l->pitch <= PADDED_MAX;
}

// n bytes from src to dst (not overlapping) with fixed-size moves the compiler inlines: whole
// 16-byte pieces and one overlapping last piece (a MobileNet plane's rows are 3–48 bytes; a libc
// call per row cost a fifth of a 48×48 layer).
static inline __attribute__((always_inline, unused)) void copy_run(uint8_t *dst, const uint8_t *src, size_t n) {
    if (n >= 16) {
        for (size_t i = 0; i + 16 <= n; i += 16) memcpy(dst + i, src + i, 16);
        if (n % 16 != 0) memcpy(dst + n - 16, src + n - 16, 16);
    } else if (n >= 8) {
        memcpy(dst, src, 8);
        memcpy(dst + n - 8, src + n - 8, 8);
    } else if (n >= 4) {
        memcpy(dst, src, 4);
        memcpy(dst + n - 4, src + n - 4, 4);
    } else {
        for (size_t i = 0; i < n; i++) dst[i] = src[i];
    }
}

static inline __attribute__((always_inline, unused)) void padded_fill(const flotilla_f32_conv2d_geometry *g,
                                                                     const padded_layout *l, const uint8_t *plane,
                                                                     uint8_t zbyte, uint8_t flip, uint8_t *dst) {
    const size_t sh = g->stride_h, sw = g->stride_w;
    memset(dst, zbyte, l->total + PADDED_SLACK);
    for (size_t iy = 0; iy < g->in_h; iy++) {
        const size_t r = iy + g->pad_top;
        if (r >= l->rows) break;
        uint8_t *sub = dst + (r % sh) * sw * l->sub_size + (r / sh) * l->pitch;
        const uint8_t *src = plane + iy * g->in_w;
        if (sw == 1) {
            const size_t room = g->pad_left >= l->cols ? 0 : l->cols - g->pad_left;
            const size_t n = g->in_w < room ? g->in_w : room;
            if (n > 0) copy_run(sub + g->pad_left, src, n);
            continue;
        }
        // Column c = pad_left + ix goes to phase c mod s_w, index c / s_w. One phase at a time:
        // sequential stores from a strided read, no division or branch per byte.
        const size_t n = g->pad_left >= l->cols ? 0 : (g->in_w < l->cols - g->pad_left ? g->in_w : l->cols - g->pad_left);
        if (sw == 2) {
            // Both phases in one pass over byte pairs (an even/odd split the compiler vectorizes).
            size_t ix = g->pad_left & 1;  // first ix landing in phase 0
            if (ix == 1 && n > 0) sub[l->sub_size + g->pad_left / 2] = src[0];
            uint8_t *d0 = sub + (g->pad_left + ix) / 2, *d1 = d0 + l->sub_size;
            const size_t pairs = n > ix ? (n - ix) / 2 : 0;
            const uint8_t *sp = src + ix;
            for (size_t j = 0; j < pairs; j++) {
                d0[j] = sp[2 * j];
                d1[j] = sp[2 * j + 1];
            }
            if (n > ix && ((n - ix) & 1) != 0) d0[pairs] = sp[2 * pairs];
            continue;
        }
        for (size_t phase = 0; phase < sw; phase++) {
            const size_t ix0 = (phase + sw - g->pad_left % sw) % sw;  // first ix with (pad_left + ix) mod s_w = phase
            if (ix0 >= n) continue;
            uint8_t *d = sub + phase * l->sub_size + (g->pad_left + ix0) / sw;
            const uint8_t *sp = src + ix0;
            const size_t count = (n - ix0 + sw - 1) / sw;
            for (size_t j = 0; j < count; j++) d[j] = sp[j * sw];
        }
    }
    // The tap kernel's signedness: x ^ 0x80 = x ± 128, folded into the zero point by the caller.
    if (flip != 0) {
        for (size_t i = 0; i < l->total + PADDED_SLACK; i++) dst[i] ^= flip;
    }
}

// One channel's taps over the flat padded plane: flat[j] = requant(init + Σ_k w[k]·pp[tap_off[k] + j])
// for j < n (whole blocks: up to PADDED_SLACK − 1 bytes past n are written too). The bytes of pp
// are u8 or s8 as the kernel declares (signed_taps); init = bias − z_eff·Σw carries the zero point.
typedef void (*dwconv_taps_fn)(const uint8_t *pp, const size_t *tap_off, size_t taps, const int8_t *w,
                               int32_t init, size_t n, int32_t mult, int32_t shift,
                               const flotilla_q8_requant *rq, uint8_t *flat);

static inline __attribute__((always_inline, unused)) void dwconv_body(const flotilla_f32_conv2d_geometry *g,
                                                              const flotilla_q8_dwconv_params *p,
                                                              const void *input, void *output,
                                                              requant_run_fn requant_run, dwconv_taps_fn taps_fn,
                                                              bool signed_taps) {
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g);
    const size_t taps = g->kernel_h * g->kernel_w;
    const flotilla_q8_requant *rq = &p->requant;
    size_t lo, hi;
    flotilla_f32_dwconv_interior_x(g, ow, &lo, &hi);
    int32_t acc[CHUNK];
    padded_layout l;
    if (padded_layout_get(g, oh, ow, &l)) {
        uint8_t pp[PADDED_MAX + PADDED_SLACK], flat[PADDED_MAX + PADDED_SLACK];
        size_t tap_off[PADDED_TAPS];
        for (size_t ky = 0; ky < g->kernel_h; ky++) {
            for (size_t kx = 0; kx < g->kernel_w; kx++) {
                const size_t dy = ky * g->dilation_h, dx = kx * g->dilation_w;
                tap_off[ky * g->kernel_w + kx] = ((dy % g->stride_h) * g->stride_w + dx % g->stride_w) * l.sub_size +
                                                 (dy / g->stride_h) * l.pitch + dx / g->stride_w;
            }
        }
        // Bytes as the kernel wants them: XOR 0x80 maps s8 x to u8 x + 128 and u8 x to s8 x − 128;
        // the zero point moves with them, so (x − z_x) and the padding's zero are unchanged.
        const bool is_u8 = p->x_type == FLOTILLA_Q8_U8;
        const uint8_t flip = is_u8 == signed_taps ? 0x80 : 0;
        const int32_t z_eff = p->x_zero_point + (flip == 0 ? 0 : (is_u8 ? -128 : 128));
        const uint8_t zbyte = (uint8_t)(p->x_zero_point & 0xFF);
        for (size_t c = 0; c < g->channels; c++) {
            padded_fill(g, &l, (const uint8_t *)input + c * g->in_h * g->in_w, zbyte, flip, pp);
            const int32_t mult = rq->per_channel ? rq->multiplier[c] : rq->multiplier[0];
            const int32_t shift = rq->per_channel ? rq->shift[c] : rq->shift[0];
            const int8_t *w = p->weights + c * taps;
            int32_t wsum = 0;
            for (size_t k = 0; k < taps; k++) wsum += w[k];
            const int32_t init = (int32_t)((uint32_t)(p->bias != NULL ? p->bias[c] : 0) - (uint32_t)(z_eff * wsum));
            taps_fn(pp, tap_off, taps, w, init, oh * l.pitch, mult, shift, rq, flat);
            uint8_t *out = (uint8_t *)output + c * oh * ow;
            for (size_t oy = 0; oy < oh; oy++) copy_run(out + oy * ow, flat + oy * l.pitch, ow);
        }
        return;
    }
    for (size_t c = 0; c < g->channels; c++) {
        const uint8_t *plane = (const uint8_t *)input + c * g->in_h * g->in_w;
        const int8_t *w = p->weights + c * taps;
        const int32_t bias = p->bias != NULL ? p->bias[c] : 0;
        const int32_t mult = rq->per_channel ? rq->multiplier[c] : rq->multiplier[0];
        const int32_t shift = rq->per_channel ? rq->shift[c] : rq->shift[0];
        uint8_t *out = (uint8_t *)output + c * oh * ow;
        for (size_t oy = 0; oy < oh; oy++, out += ow) {
            for (size_t ox = 0; ox < lo; ox++) {
                const int32_t a = flotilla_q8_dwconv_pixel_acc(g, plane, p->x_type, p->x_zero_point, w, bias, oy, ox);
                out[ox] = (uint8_t)flotilla_q8_requant_scalar(a, mult, shift, rq->zero_point, rq->qmin, rq->qmax);
            }
            for (size_t ox0 = lo; ox0 < hi; ox0 += CHUNK) {
                const size_t count = hi - ox0 < CHUNK ? hi - ox0 : CHUNK;
                interior_run(g, plane, p->x_type, p->x_zero_point, w, bias, oy, ox0, count, acc);
                requant_run(acc, count, mult, shift, rq, out + ox0);
            }
            for (size_t ox = hi > lo ? hi : lo; ox < ow; ox++) {
                const int32_t a = flotilla_q8_dwconv_pixel_acc(g, plane, p->x_type, p->x_zero_point, w, bias, oy, ox);
                out[ox] = (uint8_t)flotilla_q8_requant_scalar(a, mult, shift, rq->zero_point, rq->qmin, rq->qmax);
            }
        }
    }
}

#endif
