// The NHWC driver of the channels-last depthwise (the dwconv_nhwc entries), shared by
// q8_dwconv_nhwc_x86.c, q8_dwconv_cl_neon.c and q8_dwconv_neondot.c: the bands, padding, per-ISA
// prep and run of q8_dwconv_cl.h with a copy-in instead of the transposes.
#ifndef FLOTILLA_Q8_DWCONV_NHWC_H
#define FLOTILLA_Q8_DWCONV_NHWC_H

#include "q8_dwconv_cl.h"

#if defined(__aarch64__)
#include "q8_neon_requant.h"
#endif

#if defined(__x86_64__) || defined(__aarch64__)
// On an NHWC image the channel block of a pixel is B contiguous bytes: the scratch is filled
// by copying them per pixel (permuted into the path's channel order, XORed with flip) instead
// of transposing planes, and run stores each output pixel's block straight into the NHWC
// output row. Bands, padding and the run are the NCHW path's.

// n pixels (pixel i at src + i·lds, nch ≤ B live channel bytes each) → n consecutive B-byte
// scratch pixels at dst, in the path's channel order, XORed with flip. Nothing at or past
// `end` (the input's end) is read; dead channel bytes are anything.
typedef void (*cl_cin_fn)(const uint8_t *src, size_t lds, size_t n, size_t nch, const uint8_t *end, uint8_t flip,
                          uint8_t *dst);

static inline __attribute__((always_inline, unused)) void cl_drive_nhwc(const cl_ctx *x, const void *input,
                                                                        void *output, void *packed,
                                                                        const uint8_t *prepacked, size_t block_bytes,
                                                                        cl_prep_fn prep, cl_run_fn run,
                                                                        cl_cin_fn cin) {
    // + slack: a run computing several pixels per register reads up to 3 B-byte pixels past
    // the band's last row for pixels past the row's end (never stored).
    _Alignas(64) uint8_t scr[CL_IN_MAX + 64];
    const flotilla_f32_conv2d_geometry *g = x->g;
    const size_t C = g->channels, B = x->B, ow = x->ow;
    const bool whole = x->band >= x->oh;
    const uint8_t *in = (const uint8_t *)input, *end = in + g->in_h * g->in_w * C;
    for (size_t c0 = 0; c0 < C; c0 += B) {
        const size_t nch = C - c0 < B ? C - c0 : B;
        const void *k = packed;
        if (prepacked != NULL) {
            k = prepacked + (c0 / B) * block_bytes;
        } else {
            prep(x, c0, packed);
        }
        for (size_t oy0 = 0; oy0 < x->oh; oy0 += x->band) {
            const size_t oy1 = oy0 + x->band < x->oh ? oy0 + x->band : x->oh;
            const size_t rows = cl_band_rows(x, oy1 - oy0);
            // As cl_drive: image pixels are rewritten whole (B bytes), padding stays valid.
            if (c0 == 0 || !whole) cl_fill_padding(x, oy0, rows, scr);
            const ptrdiff_t r0 = (ptrdiff_t)(oy0 * g->stride_h) - (ptrdiff_t)g->pad_top;
            const ptrdiff_t lo = r0 < 0 ? 0 : r0;
            const ptrdiff_t hi = r0 + (ptrdiff_t)rows < (ptrdiff_t)g->in_h ? r0 + (ptrdiff_t)rows : (ptrdiff_t)g->in_h;
            for (ptrdiff_t iy = lo; iy < hi; iy++) {
                cin(in + ((size_t)iy * g->in_w) * C + c0, C, g->in_w, nch, end, x->flip,
                    scr + ((size_t)(iy - r0) * x->pitch + g->pad_left) * B);
            }
            run(x, k, nch, scr, oy0, oy1, (uint8_t *)output + oy0 * ow * C + c0, C, nch);
        }
    }
}

// The NHWC entry: a pack (dwconv_nhwc_pack) or NULL (constants per block per call). Geometries
// without a channels-last plan (more than CL_TAPS_MAX taps, rows wider than the scratch) run
// the reference: their pack size is 0, so any pack given for them is another's.
#define CL_NHWC_RUN(B_, SIGNED, LAYOUT, PACK_T, PREP, RUN, CIN)                                                    \
    do {                                                                                                         \
        cl_ctx x_;                                                                                               \
        if (!cl_ctx_init(g, p, B_, SIGNED, &x_)) {                                                               \
            if (packed != NULL) return FLOTILLA_Q8_PACK_MISMATCH;                                                \
            flotilla_q8_dwconv_nhwc__ref(g, p, input, output);                                                   \
            return FLOTILLA_Q8_OK;                                                                               \
        }                                                                                                        \
        if (packed == NULL) {                                                                                    \
            PACK_T k_;                                                                                           \
            cl_drive_nhwc(&x_, input, output, &k_, NULL, 0, PREP, RUN, CIN);                                     \
            return FLOTILLA_Q8_OK;                                                                               \
        }                                                                                                        \
        if (!cl_pack_matches_for(&x_, packed, LAYOUT, sizeof(PACK_T), true)) return FLOTILLA_Q8_PACK_MISMATCH;  \
        cl_drive_nhwc(&x_, input, output, NULL, (const uint8_t *)packed + CL_PACK_HEADER, sizeof(PACK_T), PREP, \
                      RUN, CIN);                                                                                 \
        return FLOTILLA_Q8_OK;                                                                                   \
    } while (0)

#if defined(__aarch64__)
// NEON (B = 16, channels in natural order: a plain copy). A load that would pass the input's
// end goes through a bounded copy; otherwise a partial block reads the next pixel's bytes into
// dead lanes.
static void __attribute__((unused)) cl_cin_neon(const uint8_t *src, size_t lds, size_t n, size_t nch,
                                                const uint8_t *end, uint8_t flip, uint8_t *dst) {
    const uint8x16_t f = vdupq_n_u8(flip);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *s = src + i * lds;
        uint8x16_t v;
        if ((size_t)(end - s) >= 16) {
            v = vld1q_u8(s);
        } else {
            uint8_t tmp[16] = {0};
            memcpy(tmp, s, nch);
            v = vld1q_u8(tmp);
        }
        vst1q_u8(dst + 16 * i, veorq_u8(v, f));
    }
}

// The run's per-pixel store: 16 bytes, or the first `keep` of them (a partial NHWC block).
static inline __attribute__((always_inline, unused)) void cl_store_lanes_neon(const int32x4_t acc[4],
                                                                              const int32x4_t mult[4],
                                                                              const int64x2_t neg_n[4][2],
                                                                              const flotilla_q8_requant *rq,
                                                                              uint8_t *o, size_t keep) {
    if (keep >= 16) {
        flotilla_q8_neon_requant_lanes_row(acc, mult, neg_n, rq, o);
        return;
    }
    uint8_t tmp[16];
    flotilla_q8_neon_requant_lanes_row(acc, mult, neg_n, rq, tmp);
    memcpy(o, tmp, keep);
}
#endif
#endif

#endif
