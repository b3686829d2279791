// Optimized int8 depthwise convolution: each output row splits into a left border, an interior
// where every horizontal tap lies inside the input row, and a right border. The interior
// accumulates tap by tap over a run of output columns (w · (x − z_x), int32: loops the compiler
// vectorizes for the file's ISA), the borders use the reference's own pixel function, and every
// accumulator goes through the contract's scalar requantization. So the integers, and the
// bytes, are the reference's by construction; the speed comes from the tap-major interior.
// The body is compiled once per ISA through target attributes (x86) or the baseline (arm64).
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

static inline __attribute__((always_inline, unused)) void dwconv_body(const flotilla_f32_conv2d_geometry *g,
                                                              const flotilla_q8_dwconv_params *p,
                                                              const void *input, void *output) {
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g);
    const size_t taps = g->kernel_h * g->kernel_w;
    const flotilla_q8_requant *rq = &p->requant;
    size_t lo, hi;
    flotilla_f32_dwconv_interior_x(g, ow, &lo, &hi);
    int32_t acc[CHUNK];
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
                for (size_t i = 0; i < count; i++) {
                    out[ox0 + i] = (uint8_t)flotilla_q8_requant_scalar(acc[i], mult, shift, rq->zero_point, rq->qmin, rq->qmax);
                }
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
    dwconv_body(g, p, input, output);
}

__attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni"))) void flotilla_q8_dwconv__avx512vnni(
    const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p, const void *input,
    void *output) {
    dwconv_body(g, p, input, output);
}
#endif

#if defined(__aarch64__)
void flotilla_q8_dwconv__neon(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                              const void *input, void *output) {
    dwconv_body(g, p, input, output);
}
#endif
