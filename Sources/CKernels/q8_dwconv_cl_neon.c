// Channels-last int8 depthwise convolution, ARMv8.0 NEON (the driver and transposes:
// q8_dwconv_cl.h). 16 channels per block, in order (accumulator q: channels 4q … 4q + 3): u8
// bytes widened to 16 bits (s8 inputs XORed with 0x80 in the transpose, z_eff = z_x + 128),
// SMLAL by a per-channel weight vector per tap, init = bias − z_eff·Σw, per-lane requant.
#include "q8_dwconv_cl.h"
#include "q8_dwconv_nhwc.h"
#include "q8_neon_requant.h"

#if defined(__aarch64__)
typedef struct cl_pack_neon {
    int16x8_t w[CL_TAPS_MAX][2];  // tap k: channels 0–7, 8–15
    int32x4_t init[4], mult[4];
    int64x2_t neg_n[4][2];  // −(31 + shift) of lanes 0–1, 2–3 of each accumulator
} cl_pack_neon;

static void prep_neon(const cl_ctx *x, size_t c0, void *packed) {
    cl_pack_neon *k = packed;
    const size_t C = x->g->channels, taps = x->taps, nch = C - c0 < 16 ? C - c0 : 16;
    const int8_t *w = x->p->weights + c0 * taps;
    int32_t init[16], mult[16];
    int64_t neg_n[16];
    cl_lane_constants16(x, c0, nch, init, mult, neg_n);
    for (size_t t = 0; t < taps; t++) {
        int16_t col[16];
        for (size_t j = 0; j < 16; j++) col[j] = j < nch ? w[j * taps + t] : 0;
        k->w[t][0] = vld1q_s16(col);
        k->w[t][1] = vld1q_s16(col + 8);
    }
    for (size_t q = 0; q < 4; q++) {
        k->init[q] = vld1q_s32(init + 4 * q);
        k->mult[q] = vld1q_s32(mult + 4 * q);
        k->neg_n[q][0] = vld1q_s64(neg_n + 4 * q);
        k->neg_n[q][1] = vld1q_s64(neg_n + 4 * q + 2);
    }
}

static void run_neon(const cl_ctx *x, const void *packed, size_t nch, const uint8_t *scr, size_t oy0, size_t oy1,
                     uint8_t *out, size_t ldo, size_t keep) {
    (void)nch;
    const cl_pack_neon *k = packed;
    const flotilla_f32_conv2d_geometry *g = x->g;
    const size_t rowstep = g->stride_h * x->pitch * 16, colstep = g->stride_w * 16;
    uint8_t *o = out;
    for (size_t oy = oy0; oy < oy1; oy++) {
        const uint8_t *row = scr + (oy - oy0) * rowstep;
        for (size_t ox = 0; ox < x->ow; ox++, o += ldo) {
            const uint8_t *s = row + ox * colstep;
            int32x4_t acc[4] = {k->init[0], k->init[1], k->init[2], k->init[3]};
            for (size_t t = 0; t < x->taps; t++) {
                const uint8x16_t v = vld1q_u8(s + x->off[t]);
                const int16x8_t lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v)));
                const int16x8_t hi = vreinterpretq_s16_u16(vmovl_high_u8(v));
                acc[0] = vmlal_s16(acc[0], vget_low_s16(lo), vget_low_s16(k->w[t][0]));
                acc[1] = vmlal_high_s16(acc[1], lo, k->w[t][0]);
                acc[2] = vmlal_s16(acc[2], vget_low_s16(hi), vget_low_s16(k->w[t][1]));
                acc[3] = vmlal_high_s16(acc[3], hi, k->w[t][1]);
            }
            cl_store_lanes_neon(acc, k->mult, k->neg_n, &x->p->requant, o, keep);
        }
    }
}

bool flotilla_q8_dwconv_cl__neon(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                 const void *input, void *output) {
    cl_ctx x;
    if (!cl_ctx_init(g, p, 16, false, &x)) return false;
    cl_pack_neon packed;
    cl_drive(&x, input, output, &packed, NULL, 0, prep_neon, run_neon, cl_tin_neon, cl_tout_neon);
    return true;
}

// Plan-time packs (q8_dwconv_cl.h, cl_pack): the same prep, once per plan.
size_t flotilla_q8_dwconv_pack_size__neon(const flotilla_f32_conv2d_geometry *g) {
    return cl_pack_size(g, 16, sizeof(cl_pack_neon));
}

flotilla_q8_status flotilla_q8_dwconv_pack__neon(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                                 void *packed) {
    return cl_pack(g, p, 16, false, CL_LAYOUT_NEON, sizeof(cl_pack_neon), prep_neon, packed);
}

flotilla_q8_status flotilla_q8_dwconv_packed__neon(const flotilla_f32_conv2d_geometry *g,
                                                   const flotilla_q8_dwconv_params *p, const void *packed,
                                                   const void *input, void *output) {
    CL_PACKED_RUN(16, false, CL_LAYOUT_NEON, cl_pack_neon, prep_neon, run_neon, cl_tin_neon, cl_tout_neon,
                  flotilla_q8_dwconv__neon);
}

size_t flotilla_q8_dwconv_nhwc_pack_size__neon(const flotilla_f32_conv2d_geometry *g) {
    return cl_pack_size_for(g, 16, sizeof(cl_pack_neon), true);
}

flotilla_q8_status flotilla_q8_dwconv_nhwc_pack__neon(const flotilla_f32_conv2d_geometry *g,
                                                      const flotilla_q8_dwconv_params *p, void *packed) {
    return cl_pack_for(g, p, 16, false, CL_LAYOUT_NHWC_NEON, sizeof(cl_pack_neon), prep_neon, true, packed);
}

flotilla_q8_status flotilla_q8_dwconv_nhwc__neon(const flotilla_f32_conv2d_geometry *g,
                                                 const flotilla_q8_dwconv_params *p, const void *packed,
                                                 const void *input, void *output) {
    CL_NHWC_RUN(16, false, CL_LAYOUT_NHWC_NEON, cl_pack_neon, prep_neon, run_neon, cl_cin_neon);
}
#endif
