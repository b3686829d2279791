// Optimized int8 depthwise convolution: each output row splits into a left border, an interior
// where every horizontal tap lies inside the input row, and a right border. The interior
// accumulates tap by tap over a run of output columns (w · (x − z_x), int32: loops the compiler
// vectorizes for the file's ISA), the borders use the reference's own pixel function. The
// interior's accumulators are requantized as a run with the GEMM epilogues' vector
// requantization on x86 (8 or 16 lanes, the same integer formula), one at a time elsewhere;
// border pixels use the scalar requantization. So the integers, and the bytes, are the
// reference's by construction; the speed comes from the tap-major interior and the vector
// requantization. Planes whose padded copy fits on the stack skip the border split entirely
// (padded path below), which is every MobileNet-sized layer. The body is compiled once per ISA through target attributes (x86) or the
// baseline (arm64).
#include <string.h>

#include "f32_internal.h"
#include "q8_internal.h"
#include "q8_x86_requant.h"

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

static inline __attribute__((always_inline, unused)) void padded_fill(const flotilla_f32_conv2d_geometry *g,
                                                                     const padded_layout *l, const uint8_t *plane,
                                                                     uint8_t zbyte, uint8_t *dst) {
    const size_t sh = g->stride_h, sw = g->stride_w;
    memset(dst, zbyte, l->total);
    for (size_t iy = 0; iy < g->in_h; iy++) {
        const size_t r = iy + g->pad_top;
        if (r >= l->rows) break;
        uint8_t *sub = dst + (r % sh) * sw * l->sub_size + (r / sh) * l->pitch;
        const uint8_t *src = plane + iy * g->in_w;
        if (sw == 1) {
            const size_t room = g->pad_left >= l->cols ? 0 : l->cols - g->pad_left;
            const size_t n = g->in_w < room ? g->in_w : room;
            if (n > 0) memcpy(sub + g->pad_left, src, n);
            continue;
        }
        // Column c = pad_left + ix goes to phase c mod s_w, index c / s_w. One phase at a time:
        // sequential stores from a strided read, no division or branch per byte.
        const size_t n = g->pad_left >= l->cols ? 0 : (g->in_w < l->cols - g->pad_left ? g->in_w : l->cols - g->pad_left);
        for (size_t phase = 0; phase < sw; phase++) {
            const size_t ix0 = (phase + sw - g->pad_left % sw) % sw;  // first ix with (pad_left + ix) mod s_w = phase
            if (ix0 >= n) continue;
            uint8_t *d = sub + phase * l->sub_size + (g->pad_left + ix0) / sw;
            const uint8_t *sp = src + ix0;
            const size_t count = (n - ix0 + sw - 1) / sw;
            for (size_t j = 0; j < count; j++) d[j] = sp[j * sw];
        }
    }
}

static inline __attribute__((always_inline, unused)) void padded_channel(
    const flotilla_f32_conv2d_geometry *g, const size_t *tap_off, const uint8_t *pp, flotilla_q8_type t,
    int32_t zx, const int8_t *w, int32_t bias, size_t n_flat, int32_t *acc, uint8_t *flat, int32_t mult,
    int32_t shift, const flotilla_q8_requant *rq, requant_run_fn requant_run) {
    const size_t taps = g->kernel_h * g->kernel_w;
    for (size_t j0 = 0; j0 < n_flat; j0 += CHUNK) {
        const size_t count = n_flat - j0 < CHUNK ? n_flat - j0 : CHUNK;
        for (size_t i = 0; i < count; i++) acc[i] = bias;
        for (size_t k = 0; k < taps; k++) {
            const int32_t wv = w[k];
            const uint8_t *src = pp + tap_off[k] + j0;
            if (t == FLOTILLA_Q8_U8) {
                for (size_t i = 0; i < count; i++) acc[i] += wv * ((int32_t)src[i] - zx);
            } else {
                const int8_t *ss = (const int8_t *)src;
                for (size_t i = 0; i < count; i++) acc[i] += wv * ((int32_t)ss[i] - zx);
            }
        }
        requant_run(acc, count, mult, shift, rq, flat + j0);
    }
}

static inline __attribute__((always_inline, unused)) void dwconv_body(const flotilla_f32_conv2d_geometry *g,
                                                              const flotilla_q8_dwconv_params *p,
                                                              const void *input, void *output,
                                                              requant_run_fn requant_run) {
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g);
    const size_t taps = g->kernel_h * g->kernel_w;
    const flotilla_q8_requant *rq = &p->requant;
    size_t lo, hi;
    flotilla_f32_dwconv_interior_x(g, ow, &lo, &hi);
    int32_t acc[CHUNK];
    padded_layout l;
    if (padded_layout_get(g, oh, ow, &l)) {
        uint8_t pp[PADDED_MAX], flat[PADDED_MAX];
        size_t tap_off[PADDED_TAPS];
        for (size_t ky = 0; ky < g->kernel_h; ky++) {
            for (size_t kx = 0; kx < g->kernel_w; kx++) {
                const size_t dy = ky * g->dilation_h, dx = kx * g->dilation_w;
                tap_off[ky * g->kernel_w + kx] = ((dy % g->stride_h) * g->stride_w + dx % g->stride_w) * l.sub_size +
                                                 (dy / g->stride_h) * l.pitch + dx / g->stride_w;
            }
        }
        const uint8_t zbyte = (uint8_t)(p->x_zero_point & 0xFF);
        for (size_t c = 0; c < g->channels; c++) {
            padded_fill(g, &l, (const uint8_t *)input + c * g->in_h * g->in_w, zbyte, pp);
            const int32_t mult = rq->per_channel ? rq->multiplier[c] : rq->multiplier[0];
            const int32_t shift = rq->per_channel ? rq->shift[c] : rq->shift[0];
            padded_channel(g, tap_off, pp, p->x_type, p->x_zero_point, p->weights + c * taps,
                           p->bias != NULL ? p->bias[c] : 0, oh * l.pitch, acc, flat, mult, shift, rq, requant_run);
            uint8_t *out = (uint8_t *)output + c * oh * ow;
            for (size_t oy = 0; oy < oh; oy++) memcpy(out + oy * ow, flat + oy * l.pitch, ow);
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

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) void flotilla_q8_dwconv__avx2(const flotilla_f32_conv2d_geometry *g,
                                                                  const flotilla_q8_dwconv_params *p,
                                                                  const void *input, void *output) {
    dwconv_body(g, p, input, output, flotilla_q8_requant_run_avx2);
}

__attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni"))) void flotilla_q8_dwconv__avx512vnni(
    const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p, const void *input,
    void *output) {
    dwconv_body(g, p, input, output, flotilla_q8_requant_run_avx512);
}
#endif

#if defined(__aarch64__)
void flotilla_q8_dwconv__neon(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                              const void *input, void *output) {
    dwconv_body(g, p, input, output, requant_run_scalar);
}
#endif
