// Optimized int8 depthwise convolution, x86 and ARMv8.0 NEON: the shared body (q8_dwconv_body.h)
// with each ISA's tap kernel. The tap kernels never subtract the zero point per element
// (init = bias − z_eff·Σw does it once per channel) and multiply bytes by weights in the widest
// exact form the ISA has: AVX-512 VNNI sums four taps per int32 lane with VPDPBUSD (u8 × s8, no
// intermediate saturation), AVX2 two taps per lane with VPMADDWD on zero-extended bytes (VPMADDUBSW
// would saturate: 2·255·127 > 32767), NEON one tap per lane with SMLAL on 16-bit halves. Every
// product and sum is exact in int32, so the accumulators equal the reference's.
#include "q8_dwconv_body.h"
#include "q8_dwconv_cl.h"
#include "q8_neon_requant.h"
#include "q8_x86_requant.h"

#if defined(__x86_64__)
// Taps grouped by g (4 for VPDPBUSD, 2 for VPMADDWD); a short last group is filled with weight-0
// taps reading tap 0's run (any in-bounds bytes: 0·x = 0). Packed weights: tap j of a group in
// byte (g = 4) or int16 (g = 2) j of the int32.
static inline size_t group_taps(const size_t *tap_off, size_t taps, const int8_t *w, size_t g, size_t *off,
                                int32_t *packed) {
    const size_t groups = (taps + g - 1) / g;
    for (size_t q = 0; q < groups; q++) {
        uint32_t word = 0;
        for (size_t j = 0; j < g; j++) {
            const size_t k = q * g + j;
            const int32_t wv = k < taps ? w[k] : 0;
            off[q * g + j] = k < taps ? tap_off[k] : tap_off[0];
            word |= g == 4 ? (uint32_t)(uint8_t)wv << (8 * j) : (uint32_t)(uint16_t)(int16_t)wv << (16 * j);
        }
        packed[q] = (int32_t)word;
    }
    return groups;
}

// 64 outputs per block, four 16-lane accumulators. The byte and word unpacks that build the u8
// quads work within 128-bit lanes, so accumulator q holds outputs 16L + 4q .. 16L + 4q + 3 of
// lane L; a 4×4 transpose of 128-bit lanes restores the order before requantization.
__attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni"))) static void taps_avx512vnni(
    const uint8_t *pp, const size_t *tap_off, size_t taps, const int8_t *w, int32_t init, size_t n, int32_t mult,
    int32_t shift, const flotilla_q8_requant *rq, uint8_t *flat) {
    size_t off[PADDED_TAPS];
    int32_t packed[PADDED_TAPS / 4];
    const size_t groups = group_taps(tap_off, taps, w, 4, off, packed);
    const __m512i vinit = _mm512_set1_epi32(init);
    // The 32-bit requant form (shift ≥ 2) with its constants held across blocks, and the bytes
    // packed with VPACKSSDW + VPACKUSWB/VPACKSSWB: the packs interleave per 128-bit lane exactly
    // as the unpacks did, so lane L comes out as outputs 16L … 16L + 15 in order, with no lane
    // transpose and no VPMOVDB (whose memory form was most of this kernel's time under clang).
    // Values are clamped to [qmin, qmax] inside the output type first, so the packs' saturation
    // never fires.
    const bool hi = flotilla_q8_requant_hi_ok(shift), u8 = rq->type == FLOTILLA_Q8_U8;
    const __m512i vm = _mm512_set1_epi32(mult), vrnd = _mm512_set1_epi32(hi ? 1 << (shift - 2) : 0);
    const __m128i vcnt = _mm_cvtsi32_si128(shift - 1);  // n − 32, n = 31 + shift
    const __m512i vzp = _mm512_set1_epi32(rq->zero_point), vmin = _mm512_set1_epi32(rq->qmin);
    const __m512i vmax = _mm512_set1_epi32(rq->qmax);
    for (size_t j = 0; j < n; j += 64) {
        __m512i q0 = vinit, q1 = vinit, q2 = vinit, q3 = vinit;
        for (size_t g = 0; g < groups; g++) {
            const uint8_t *s = pp + j;
            const __m512i a = _mm512_loadu_si512((const void *)(s + off[4 * g]));
            const __m512i b = _mm512_loadu_si512((const void *)(s + off[4 * g + 1]));
            const __m512i c = _mm512_loadu_si512((const void *)(s + off[4 * g + 2]));
            const __m512i d = _mm512_loadu_si512((const void *)(s + off[4 * g + 3]));
            const __m512i wq = _mm512_set1_epi32(packed[g]);
            const __m512i ab_lo = _mm512_unpacklo_epi8(a, b), ab_hi = _mm512_unpackhi_epi8(a, b);
            const __m512i cd_lo = _mm512_unpacklo_epi8(c, d), cd_hi = _mm512_unpackhi_epi8(c, d);
            q0 = _mm512_dpbusd_epi32(q0, _mm512_unpacklo_epi16(ab_lo, cd_lo), wq);
            q1 = _mm512_dpbusd_epi32(q1, _mm512_unpackhi_epi16(ab_lo, cd_lo), wq);
            q2 = _mm512_dpbusd_epi32(q2, _mm512_unpacklo_epi16(ab_hi, cd_hi), wq);
            q3 = _mm512_dpbusd_epi32(q3, _mm512_unpackhi_epi16(ab_hi, cd_hi), wq);
        }
        if (hi) {
#define RQ(q) \
    _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(flotilla_q8_requant16_hi_avx512(q, vm, vrnd, vcnt), vzp), vmin), vmax)
            const __m512i a = _mm512_packs_epi32(RQ(q0), RQ(q1)), b = _mm512_packs_epi32(RQ(q2), RQ(q3));
#undef RQ
            _mm512_storeu_si512((void *)(flat + j), u8 ? _mm512_packus_epi16(a, b) : _mm512_packs_epi16(a, b));
            continue;
        }
        const __m512i t0 = _mm512_shuffle_i32x4(q0, q1, 0x44), t1 = _mm512_shuffle_i32x4(q2, q3, 0x44);
        const __m512i t2 = _mm512_shuffle_i32x4(q0, q1, 0xEE), t3 = _mm512_shuffle_i32x4(q2, q3, 0xEE);
        const __m512i o[4] = {_mm512_shuffle_i32x4(t0, t1, 0x88), _mm512_shuffle_i32x4(t0, t1, 0xDD),
                              _mm512_shuffle_i32x4(t2, t3, 0x88), _mm512_shuffle_i32x4(t2, t3, 0xDD)};
        for (int r = 0; r < 4; r++) {
            _mm_storeu_si128((__m128i *)(void *)(flat + j + 16 * (size_t)r),
                             flotilla_q8_requant16_avx512(o[r], mult, shift, rq->zero_point, rq->qmin, rq->qmax));
        }
    }
}

// 32 outputs per block: byte pairs of two taps, zero-extended to 16 bits, VPMADDWD with the
// weight pair. Accumulator q holds outputs 4q .. 4q + 3 (low lane) and 16 + 4q .. (high lane).
__attribute__((target("avx2,fma"))) static void taps_avx2(const uint8_t *pp, const size_t *tap_off, size_t taps,
                                                         const int8_t *w, int32_t init, size_t n, int32_t mult,
                                                         int32_t shift, const flotilla_q8_requant *rq,
                                                         uint8_t *flat) {
    size_t off[PADDED_TAPS];
    int32_t packed[PADDED_TAPS / 2];
    const size_t groups = group_taps(tap_off, taps, w, 2, off, packed);
    const __m256i vinit = _mm256_set1_epi32(init), zero = _mm256_setzero_si256();
    // As taps_avx512vnni: the 32-bit requant with held constants and in-lane packs, which put
    // outputs 0 … 15 in the low lane and 16 … 31 in the high one, in order.
    const bool hi = flotilla_q8_requant_hi_ok(shift), u8 = rq->type == FLOTILLA_Q8_U8;
    const __m256i vm = _mm256_set1_epi32(mult), vrnd = _mm256_set1_epi32(hi ? 1 << (shift - 2) : 0);
    const __m128i vcnt = _mm_cvtsi32_si128(shift - 1);
    const __m256i vzp = _mm256_set1_epi32(rq->zero_point), vmin = _mm256_set1_epi32(rq->qmin);
    const __m256i vmax = _mm256_set1_epi32(rq->qmax);
    for (size_t j = 0; j < n; j += 32) {
        __m256i q0 = vinit, q1 = vinit, q2 = vinit, q3 = vinit;
        for (size_t g = 0; g < groups; g++) {
            const __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(pp + j + off[2 * g]));
            const __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(pp + j + off[2 * g + 1]));
            const __m256i wp = _mm256_set1_epi32(packed[g]);
            const __m256i ab_lo = _mm256_unpacklo_epi8(a, b), ab_hi = _mm256_unpackhi_epi8(a, b);
            q0 = _mm256_add_epi32(q0, _mm256_madd_epi16(_mm256_unpacklo_epi8(ab_lo, zero), wp));
            q1 = _mm256_add_epi32(q1, _mm256_madd_epi16(_mm256_unpackhi_epi8(ab_lo, zero), wp));
            q2 = _mm256_add_epi32(q2, _mm256_madd_epi16(_mm256_unpacklo_epi8(ab_hi, zero), wp));
            q3 = _mm256_add_epi32(q3, _mm256_madd_epi16(_mm256_unpackhi_epi8(ab_hi, zero), wp));
        }
        if (hi) {
#define RQ(q) _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(flotilla_q8_requant8_hi_avx2(q, vm, vrnd, vcnt), vzp), vmin), vmax)
            const __m256i a = _mm256_packs_epi32(RQ(q0), RQ(q1)), b = _mm256_packs_epi32(RQ(q2), RQ(q3));
#undef RQ
            _mm256_storeu_si256((__m256i *)(void *)(flat + j), u8 ? _mm256_packus_epi16(a, b) : _mm256_packs_epi16(a, b));
            continue;
        }
        const __m256i o[4] = {_mm256_permute2x128_si256(q0, q1, 0x20), _mm256_permute2x128_si256(q2, q3, 0x20),
                              _mm256_permute2x128_si256(q0, q1, 0x31), _mm256_permute2x128_si256(q2, q3, 0x31)};
        for (int r = 0; r < 4; r++) {
            _mm_storel_epi64((__m128i *)(void *)(flat + j + 8 * (size_t)r),
                             flotilla_q8_requant8_avx2(o[r], mult, shift, rq->zero_point, rq->qmin, rq->qmax));
        }
    }
}

__attribute__((target("avx2,fma"))) void flotilla_q8_dwconv_planar__avx2(const flotilla_f32_conv2d_geometry *g,
                                                                         const flotilla_q8_dwconv_params *p,
                                                                         const void *input, void *output) {
    dwconv_body(g, p, input, output, flotilla_q8_requant_run_avx2, taps_avx2, false);
}

__attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni"))) void flotilla_q8_dwconv_planar__avx512vnni(
    const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p, const void *input,
    void *output) {
    dwconv_body(g, p, input, output, flotilla_q8_requant_run_avx512, taps_avx512vnni, false);
}

void flotilla_q8_dwconv__avx2(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                              const void *input, void *output) {
    if (flotilla_q8_dwconv_prefers_cl(g, 32) && flotilla_q8_dwconv_cl__avx2(g, p, input, output)) return;
    flotilla_q8_dwconv_planar__avx2(g, p, input, output);
}

void flotilla_q8_dwconv__avx512vnni(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                    const void *input, void *output) {
    if (flotilla_q8_dwconv_prefers_cl(g, 64) && flotilla_q8_dwconv_cl__avx512vnni(g, p, input, output)) return;
    flotilla_q8_dwconv_planar__avx512vnni(g, p, input, output);
}
#endif

#if defined(__aarch64__)
// 16 outputs per block: u8 bytes widened to 16 bits (values ≤ 255: the same bits as s16), SMLAL
// by the tap's weight into four int32x4 accumulators.
static void taps_neon(const uint8_t *pp, const size_t *tap_off, size_t taps, const int8_t *w, int32_t init,
                      size_t n, int32_t mult, int32_t shift, const flotilla_q8_requant *rq, uint8_t *flat) {
    for (size_t j = 0; j < n; j += 16) {
        int32x4_t acc[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
        for (size_t k = 0; k < taps; k++) {
            const uint8x16_t x = vld1q_u8(pp + j + tap_off[k]);
            const int16x8_t lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(x)));
            const int16x8_t hi = vreinterpretq_s16_u16(vmovl_high_u8(x));
            const int16_t wv = w[k];
            acc[0] = vmlal_n_s16(acc[0], vget_low_s16(lo), wv);
            acc[1] = vmlal_high_n_s16(acc[1], lo, wv);
            acc[2] = vmlal_n_s16(acc[2], vget_low_s16(hi), wv);
            acc[3] = vmlal_high_n_s16(acc[3], hi, wv);
        }
        flotilla_q8_neon_requant_row(acc, init, mult, shift, rq, flat + j, 16);
    }
}

void flotilla_q8_dwconv_planar__neon(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                     const void *input, void *output) {
    dwconv_body(g, p, input, output, requant_run_scalar, taps_neon, false);
}

void flotilla_q8_dwconv__neon(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                              const void *input, void *output) {
    if (flotilla_q8_dwconv_prefers_cl(g, 16) && flotilla_q8_dwconv_cl__neon(g, p, input, output)) return;
    flotilla_q8_dwconv_planar__neon(g, p, input, output);
}
#endif
