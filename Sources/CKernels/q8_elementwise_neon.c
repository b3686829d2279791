// ARM64 NEON int8 Add (with requantization), global average pooling and QuantizeLinear,
// bit-exact with the reference; shared by the neon and neondot tables (ARMv8.0 instructions only). Add: each input's
// rescale (x − z)·2²⁰·M in 64-bit lanes (SMULL), SRSHL by −n (the contract's rounding, no
// intermediate overflow), truncated to int32 by XTN as the reference's cast; the sum requantized
// with the GEMM epilogue's flotilla_q8_neon_requant4. s8 inputs are XORed with 0x80 and their zero
// point raised by 128, so every input widens as u8 and x − z is unchanged.
#include "q8_internal.h"

#if defined(__aarch64__)
#include "q8_neon_requant.h"

static inline int32_t flip_zero_point(flotilla_q8_type t, int32_t z) { return t == FLOTILLA_Q8_S8 ? z + 128 : z; }

typedef struct operand_consts {
    uint8x8_t flip;
    int32x4_t z;
    int32_t m;
    int64x2_t neg_n;
} operand_consts;

static inline operand_consts operand_consts_make(flotilla_q8_type t, int32_t z, int32_t m, int32_t shift) {
    return (operand_consts){.flip = vdup_n_u8(t == FLOTILLA_Q8_S8 ? 0x80 : 0), .z = vdupq_n_s32(flip_zero_point(t, z)),
                            .m = m, .neg_n = vdupq_n_s64(-(int64_t)(31 + shift))};
}

static inline int32x4_t rescale4(int32x4_t x, const operand_consts *k) {
    const int32x4_t v = vshlq_n_s32(vsubq_s32(x, k->z), FLOTILLA_Q8_ADD_LEFT_SHIFT);
    const int64x2_t lo = vrshlq_s64(vmull_s32(vget_low_s32(v), vdup_n_s32(k->m)), k->neg_n);
    const int64x2_t hi = vrshlq_s64(vmull_high_s32(v, vdupq_n_s32(k->m)), k->neg_n);
    return vcombine_s32(vmovn_s64(lo), vmovn_s64(hi));
}

// 8 bytes → two int32x4 of rescaled values.
static inline void operand8(const uint8_t *src, const operand_consts *k, int32x4_t out[2]) {
    const uint16x8_t x = vmovl_u8(veor_u8(vld1_u8(src), k->flip));
    out[0] = rescale4(vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(x))), k);
    out[1] = rescale4(vreinterpretq_s32_u32(vmovl_high_u16(x)), k);
}

void flotilla_q8_add__neon(size_t n, const void *a, const void *b, void *y, const flotilla_q8_binary_params *p) {
    const uint8_t *pa = a, *pb = b;
    uint8_t *py = y;
    const operand_consts ka = operand_consts_make(p->a_type, p->a_zero_point, p->a_multiplier, p->a_shift);
    const operand_consts kb = operand_consts_make(p->b_type, p->b_zero_point, p->b_multiplier, p->b_shift);
    const int64x2_t neg_n = vdupq_n_s64(-(int64_t)(31 + p->y_shift));
    const int32x4_t lo = vdupq_n_s32(p->qmin - p->y_zero_point), hi = vdupq_n_s32(p->qmax - p->y_zero_point);
    const int32x4_t zp = vdupq_n_s32(p->y_zero_point);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        int32x4_t va[2], vb[2];
        operand8(pa + i, &ka, va);
        operand8(pb + i, &kb, vb);
        const int32x4_t y0 = flotilla_q8_neon_requant4(vaddq_s32(va[0], vb[0]), p->y_multiplier, neg_n, lo, hi, zp);
        const int32x4_t y1 = flotilla_q8_neon_requant4(vaddq_s32(va[1], vb[1]), p->y_multiplier, neg_n, lo, hi, zp);
        // In the output type's range: narrowing keeps the wanted low byte.
        vst1_u8(py + i, vreinterpret_u8_s8(vmovn_s16(vcombine_s16(vmovn_s32(y0), vmovn_s32(y1)))));
    }
    if (i < n) flotilla_q8_add__ref(n - i, pa + i, pb + i, py + i, p);
}

// Global average pooling: see q8_elementwise_x86.c; the channel sums are requantized four at a
// time, other geometries take the reference.
void flotilla_q8_avgpool__neon(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_avgpool_params *p,
                               const void *input, void *output) {
    if (!flotilla_q8_avgpool_is_global(g)) {
        flotilla_q8_avgpool__ref(g, p, input, output);
        return;
    }
    const size_t taps = g->in_h * g->in_w;
    const uint8_t flip = p->type == FLOTILLA_Q8_S8 ? 0x80 : 0;
    const uint32_t zsum = (uint32_t)taps * (uint32_t)flip_zero_point(p->type, p->x_zero_point);
    const int32_t mult = p->multiplier[taps - 1], shift = p->shift[taps - 1];
    const int64x2_t neg_n = vdupq_n_s64(-(int64_t)(31 + shift));
    const int32x4_t lo = vdupq_n_s32(p->qmin - p->y_zero_point), hi = vdupq_n_s32(p->qmax - p->y_zero_point);
    const int32x4_t zp = vdupq_n_s32(p->y_zero_point);
    uint8_t *out = output;
    int32_t sums[4];
    for (size_t c0 = 0; c0 < g->channels; c0 += 4) {
        const size_t count = g->channels - c0 < 4 ? g->channels - c0 : 4;
        for (size_t c = 0; c < 4; c++) {
            uint32_t s = 0;
            if (c < count) {
                const uint8_t *plane = (const uint8_t *)input + (c0 + c) * taps;
                for (size_t i = 0; i < taps; i++) s += (uint8_t)(plane[i] ^ flip);
            }
            sums[c] = (int32_t)(s - zsum);
        }
        const int32x4_t yv = flotilla_q8_neon_requant4(vld1q_s32(sums), mult, neg_n, lo, hi, zp);
        int32_t ys[4];
        vst1q_s32(ys, yv);
        for (size_t c = 0; c < count; c++) out[c0 + c] = (uint8_t)(ys[c] & 0xFF);
    }
}
// QuantizeLinear: FDIV is IEEE division (the reference's x / scale); FCVTNS rounds to nearest,
// ties to even, like the reference; NaN lanes take the zero point.
void flotilla_q8_quantize__neon(size_t n, const float *x, float scale, int32_t zero_point, int32_t qmin,
                                int32_t qmax, uint8_t *y) {
    const float32x4_t s = vdupq_n_f32(scale), lim_lo = vdupq_n_f32(-4194304.0f), lim_hi = vdupq_n_f32(4194304.0f);
    const int32x4_t z = vdupq_n_s32(zero_point), lo = vdupq_n_s32(qmin), hi = vdupq_n_s32(qmax);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        int32x4_t v[2];
        for (int h = 0; h < 2; h++) {
            const float32x4_t t = vdivq_f32(vld1q_f32(x + i + 4 * (size_t)h), s);
            const uint32x4_t ordered = vceqq_f32(t, t);
            const float32x4_t c = vminq_f32(vmaxq_f32(t, lim_lo), lim_hi);
            const int32x4_t q = vminq_s32(vmaxq_s32(vaddq_s32(vcvtnq_s32_f32(c), z), lo), hi);
            v[h] = vbslq_s32(ordered, q, z);
        }
        vst1_u8(y + i, vreinterpret_u8_s8(vmovn_s16(vcombine_s16(vmovn_s32(v[0]), vmovn_s32(v[1])))));
    }
    if (i < n) flotilla_q8_quantize__ref(n - i, x + i, scale, zero_point, qmin, qmax, y + i);
}
#endif
