// Optimized int8 depthwise convolution, ARM64 with the dot product: the shared body
// (q8_dwconv_body.h) with an SDOT tap kernel. Bytes are s8 here (u8 inputs XORed with 0x80 in the
// padded copy, z_eff = z_x − 128), weights s8: SDOT sums four s8 × s8 products into each int32
// lane exactly, so the accumulators equal the reference's.
#include "q8_internal.h"

#if defined(__aarch64__)
#if !defined(__clang__)
// GCC enables the dot-product intrinsics for this file only; the table selects this path only
// when HWCAP reports ASIMDDP.
#pragma GCC target("arch=armv8.2-a+dotprod")
#define DOT_TARGET
#else
#define DOT_TARGET __attribute__((target("dotprod")))
#endif
#include "q8_dwconv_body.h"
#include "q8_dwconv_cl.h"
#include "q8_dwconv_nhwc.h"
#include "q8_neon_requant.h"

// 16 outputs per block, four taps per SDOT: ZIP1/ZIP2 on bytes then on halfwords turn four tap
// runs into per-output quads in output order (NEON zips span the whole register). A short last
// group repeats tap 0's run with weight 0.
DOT_TARGET static void taps_neondot(const uint8_t *pp, const size_t *tap_off, size_t taps, const int8_t *w,
                                    int32_t init, size_t n, int32_t mult, int32_t shift,
                                    const flotilla_q8_requant *rq, uint8_t *flat) {
    const size_t groups = (taps + 3) / 4;
    size_t off[PADDED_TAPS];
    int8x16_t wq[PADDED_TAPS / 4];
    for (size_t q = 0; q < groups; q++) {
        uint32_t word = 0;
        for (size_t j = 0; j < 4; j++) {
            const size_t k = 4 * q + j;
            off[k] = k < taps ? tap_off[k] : tap_off[0];
            word |= (uint32_t)(uint8_t)(k < taps ? w[k] : 0) << (8 * j);
        }
        wq[q] = vreinterpretq_s8_u32(vdupq_n_u32(word));
    }
    for (size_t j = 0; j < n; j += 16) {
        int32x4_t acc[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
        for (size_t q = 0; q < groups; q++) {
            const uint8_t *s = pp + j;
            const uint8x16_t a = vld1q_u8(s + off[4 * q]), b = vld1q_u8(s + off[4 * q + 1]);
            const uint8x16_t c = vld1q_u8(s + off[4 * q + 2]), d = vld1q_u8(s + off[4 * q + 3]);
            const uint16x8_t ab_lo = vreinterpretq_u16_u8(vzip1q_u8(a, b)), ab_hi = vreinterpretq_u16_u8(vzip2q_u8(a, b));
            const uint16x8_t cd_lo = vreinterpretq_u16_u8(vzip1q_u8(c, d)), cd_hi = vreinterpretq_u16_u8(vzip2q_u8(c, d));
            acc[0] = vdotq_s32(acc[0], vreinterpretq_s8_u16(vzip1q_u16(ab_lo, cd_lo)), wq[q]);
            acc[1] = vdotq_s32(acc[1], vreinterpretq_s8_u16(vzip2q_u16(ab_lo, cd_lo)), wq[q]);
            acc[2] = vdotq_s32(acc[2], vreinterpretq_s8_u16(vzip1q_u16(ab_hi, cd_hi)), wq[q]);
            acc[3] = vdotq_s32(acc[3], vreinterpretq_s8_u16(vzip2q_u16(ab_hi, cd_hi)), wq[q]);
        }
        flotilla_q8_neon_requant_row(acc, init, mult, shift, rq, flat + j, 16);
    }
}

DOT_TARGET void flotilla_q8_dwconv_planar__neondot(const flotilla_f32_conv2d_geometry *g,
                                                   const flotilla_q8_dwconv_params *p, const void *input,
                                                   void *output) {
    dwconv_body(g, p, input, output, requant_run_scalar, taps_neondot, true);
}

// Channels-last (q8_dwconv_cl.h): 16 channels per block, in order. The same ZIP1/ZIP2 quads as
// above, now over channels: accumulator q holds channels 4q … 4q + 3, each SDOT lane the four
// taps of one channel against that channel's packed weights. Bytes s8 (u8 inputs XORed with
// 0x80 in the transpose, z_eff = z_x − 128).
typedef struct cl_pack_dot {
    int8x16_t w[CL_TAPS_MAX / 4][4];  // tap group g, accumulator q: dword j = channel 4q + j's 4 taps
    int32x4_t init[4], mult[4];
    int64x2_t neg_n[4][2];
} cl_pack_dot;

DOT_TARGET static void prep_neondot(const cl_ctx *x, size_t c0, void *packed) {
    cl_pack_dot *k = packed;
    const size_t C = x->g->channels, taps = x->taps, nch = C - c0 < 16 ? C - c0 : 16, groups = (taps + 3) / 4;
    const int8_t *w = x->p->weights + c0 * taps;
    int32_t init[16], mult[16];
    int64_t neg_n[16];
    cl_lane_constants16(x, c0, nch, init, mult, neg_n);
    for (size_t g = 0; g < groups; g++) {
        int8_t quads[64];
        for (size_t j = 0; j < 16; j++) {
            for (size_t i = 0; i < 4; i++) {
                const size_t t = 4 * g + i;
                quads[4 * j + i] = j < nch && t < taps ? w[j * taps + t] : 0;
            }
        }
        for (size_t q = 0; q < 4; q++) k->w[g][q] = vld1q_s8(quads + 16 * q);
    }
    for (size_t q = 0; q < 4; q++) {
        k->init[q] = vld1q_s32(init + 4 * q);
        k->mult[q] = vld1q_s32(mult + 4 * q);
        k->neg_n[q][0] = vld1q_s64(neg_n + 4 * q);
        k->neg_n[q][1] = vld1q_s64(neg_n + 4 * q + 2);
    }
}

DOT_TARGET static void run_neondot(const cl_ctx *x, const void *packed, size_t nch, const uint8_t *scr, size_t oy0,
                                   size_t oy1, uint8_t *out, size_t ldo, size_t keep) {
    (void)nch;
    const cl_pack_dot *k = packed;
    const flotilla_f32_conv2d_geometry *g = x->g;
    const size_t rowstep = g->stride_h * x->pitch * 16, colstep = g->stride_w * 16, groups = (x->taps + 3) / 4;
    uint8_t *o = out;
    for (size_t oy = oy0; oy < oy1; oy++) {
        const uint8_t *row = scr + (oy - oy0) * rowstep;
        for (size_t ox = 0; ox < x->ow; ox++, o += ldo) {
            const uint8_t *s = row + ox * colstep;
            int32x4_t acc[4] = {k->init[0], k->init[1], k->init[2], k->init[3]};
            for (size_t q = 0; q < groups; q++) {
                const uint8x16_t a = vld1q_u8(s + x->off[4 * q]), b = vld1q_u8(s + x->off[4 * q + 1]);
                const uint8x16_t c = vld1q_u8(s + x->off[4 * q + 2]), d = vld1q_u8(s + x->off[4 * q + 3]);
                const uint16x8_t ab_lo = vreinterpretq_u16_u8(vzip1q_u8(a, b)), ab_hi = vreinterpretq_u16_u8(vzip2q_u8(a, b));
                const uint16x8_t cd_lo = vreinterpretq_u16_u8(vzip1q_u8(c, d)), cd_hi = vreinterpretq_u16_u8(vzip2q_u8(c, d));
                acc[0] = vdotq_s32(acc[0], vreinterpretq_s8_u16(vzip1q_u16(ab_lo, cd_lo)), k->w[q][0]);
                acc[1] = vdotq_s32(acc[1], vreinterpretq_s8_u16(vzip2q_u16(ab_lo, cd_lo)), k->w[q][1]);
                acc[2] = vdotq_s32(acc[2], vreinterpretq_s8_u16(vzip1q_u16(ab_hi, cd_hi)), k->w[q][2]);
                acc[3] = vdotq_s32(acc[3], vreinterpretq_s8_u16(vzip2q_u16(ab_hi, cd_hi)), k->w[q][3]);
            }
            cl_store_lanes_neon(acc, k->mult, k->neg_n, &x->p->requant, o, keep);
        }
    }
}

DOT_TARGET bool flotilla_q8_dwconv_cl__neondot(const flotilla_f32_conv2d_geometry *g,
                                               const flotilla_q8_dwconv_params *p, const void *input,
                                               void *output) {
    cl_ctx x;
    if (!cl_ctx_init(g, p, 16, true, &x)) return false;
    cl_pack_dot packed;
    cl_drive(&x, input, output, &packed, NULL, 0, prep_neondot, run_neondot, cl_tin_neon, cl_tout_neon);
    return true;
}

DOT_TARGET void flotilla_q8_dwconv__neondot(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                            const void *input, void *output) {
    if (flotilla_q8_dwconv_prefers_cl(g, 16) && flotilla_q8_dwconv_cl__neondot(g, p, input, output)) return;
    flotilla_q8_dwconv_planar__neondot(g, p, input, output);
}

// Plan-time packs (q8_dwconv_cl.h, cl_pack): the same prep, once per plan.
size_t flotilla_q8_dwconv_pack_size__neondot(const flotilla_f32_conv2d_geometry *g) {
    return cl_pack_size(g, 16, sizeof(cl_pack_dot));
}

DOT_TARGET flotilla_q8_status flotilla_q8_dwconv_pack__neondot(const flotilla_f32_conv2d_geometry *g,
                                                               const flotilla_q8_dwconv_params *p, void *packed) {
    return cl_pack(g, p, 16, true, CL_LAYOUT_NEONDOT, sizeof(cl_pack_dot), prep_neondot, packed);
}

DOT_TARGET flotilla_q8_status flotilla_q8_dwconv_packed__neondot(const flotilla_f32_conv2d_geometry *g,
                                                                 const flotilla_q8_dwconv_params *p,
                                                                 const void *packed, const void *input, void *output) {
    CL_PACKED_RUN(16, true, CL_LAYOUT_NEONDOT, cl_pack_dot, prep_neondot, run_neondot, cl_tin_neon, cl_tout_neon,
                  flotilla_q8_dwconv__neondot);
}

size_t flotilla_q8_dwconv_nhwc_pack_size__neondot(const flotilla_f32_conv2d_geometry *g) {
    return cl_pack_size_for(g, 16, sizeof(cl_pack_dot), true);
}

DOT_TARGET flotilla_q8_status flotilla_q8_dwconv_nhwc_pack__neondot(const flotilla_f32_conv2d_geometry *g,
                                                                    const flotilla_q8_dwconv_params *p, void *packed) {
    return cl_pack_for(g, p, 16, true, CL_LAYOUT_NHWC_NEONDOT, sizeof(cl_pack_dot), prep_neondot, true, packed);
}

DOT_TARGET flotilla_q8_status flotilla_q8_dwconv_nhwc__neondot(const flotilla_f32_conv2d_geometry *g,
                                                               const flotilla_q8_dwconv_params *p, const void *packed,
                                                               const void *input, void *output) {
    CL_NHWC_RUN(16, true, CL_LAYOUT_NHWC_NEONDOT, cl_pack_dot, prep_neondot, run_neondot, cl_cin_neon);
}
#endif
