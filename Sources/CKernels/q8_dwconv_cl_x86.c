// Channels-last int8 depthwise convolution, x86 (the driver and transposes: q8_dwconv_cl.h).
// Lanes are channels: AVX-512 VNNI sums four taps per int32 lane with VPDPBUSD (u8 quads built
// with byte/word unpacks, weights packed per channel in the same order), AVX2 two taps per lane
// with VPMADDWD on zero-extended bytes (VPMADDUBSW would saturate). Bytes are u8 (s8 inputs
// XORed with 0x80 in the transpose, z_eff = z_x + 128); init = bias − z_eff·Σw per channel.
// Every product and sum is exact in int32: the accumulators are the reference's.
#include "q8_dwconv_cl_x86.h"

#if defined(__x86_64__)

// The block's weights for the 32-bit gathers, which read up to 3 bytes past the block's last
// tap (bytes masked off later). Straight from the weights when those bytes exist (every block
// but, usually, the last); else from a copy into wl with zeroed slack. Gathering from a fresh
// copy is slow: each gathered dword straddles the copy's stores and misses store forwarding
// (a fifth of a 336-channel 3×3 layer under clang).
static inline const uint8_t *cl_block_weights(const cl_ctx *x, size_t c0, size_t nch, uint8_t *wl) {
    const uint8_t *w = (const uint8_t *)x->p->weights + c0 * x->taps;
    if ((c0 + nch) * x->taps + 3 <= x->g->channels * x->taps) return w;
    memcpy(wl, w, nch * x->taps);
    memset(wl + nch * x->taps, 0, 4);
    return wl;
}

// Transposes, AVX-512: four 16×16 tiles side by side (tile L = scratch bytes 16L … 16L + 15).
T512 static void tin_avx512(const uint8_t *const *src, size_t pix, bool safe, const uint8_t *end, uint8_t flip,
                            uint8_t *const *dst, uint8_t *run, size_t rows) {
    __m512i r[16];
    _Alignas(64) uint8_t tmp[64 * 16];
    const uint8_t *s[64];
    if (safe) {
        for (size_t p = 0; p < 64; p++) s[p] = src[p] + pix;
    } else {
        for (size_t p = 0; p < 64; p++) cl_copy16_bounded(tmp + 16 * p, src[p] + pix, end), s[p] = tmp + 16 * p;
    }
#define L16(q) _mm_loadu_si128((const __m128i *)(const void *)(q))
    // Rows past `rows` (a partial block: C = 48 leaves rows 12–15 dead in every tile) stay zero.
#define CL_LD(j)                                                                                                 \
    r[j] = (j) >= rows ? _mm512_setzero_si512()                                                                  \
                       : _mm512_inserti32x4(_mm512_inserti32x4(_mm512_inserti32x4(_mm512_castsi128_si512(L16(s[j])), \
                                                                                  L16(s[16 + j]), 1),             \
                                                               L16(s[32 + j]), 2),                                \
                                            L16(s[48 + j]), 3);
    CL_EACH16(CL_LD)
#undef CL_LD
    const __m512i f = _mm512_set1_epi8((char)flip);
#define CL_X(j) r[j] = _mm512_xor_si512(r[j], f);
    CL_EACH16(CL_X)
#undef CL_X
    CL_TRANSPOSE(__m512i, _mm512_unpacklo_epi8, _mm512_unpackhi_epi8, r);
    if (dst == NULL) {
#define CL_ST(k) _mm512_storeu_si512((void *)(run + 64 * (k)), r[k]);
        CL_EACH16(CL_ST)
#undef CL_ST
        return;
    }
#define CL_ST(k) _mm512_storeu_si512((void *)dst[k], r[k]);
    CL_EACH16(CL_ST)
#undef CL_ST
}

T512 static void tout_avx512(const uint8_t *rows, uint8_t *out, size_t ohw, bool fast, size_t live, size_t n) {
    __m512i r[16];
#define CL_LD(k) r[k] = _mm512_loadu_si512((const void *)(rows + 64 * (k)));
    CL_EACH16(CL_LD)
#undef CL_LD
    CL_TRANSPOSE(__m512i, _mm512_unpacklo_epi8, _mm512_unpackhi_epi8, r);
    // r[m], lane t: channel 16t + m. Stores in ascending channel order (see cl_transpose_out).
    if (fast) {
#define ST16(q, v) _mm_storeu_si128((__m128i *)(void *)(q), v)
#define CL_ST0(m) ST16(out + (m) * ohw, _mm512_castsi512_si128(r[m]));
#define CL_ST1(m) ST16(out + (16 + (m)) * ohw, _mm512_extracti32x4_epi32(r[m], 1));
#define CL_ST2(m) ST16(out + (32 + (m)) * ohw, _mm512_extracti32x4_epi32(r[m], 2));
#define CL_ST3(m) ST16(out + (48 + (m)) * ohw, _mm512_extracti32x4_epi32(r[m], 3));
        // Whole 16-channel tiles straight from the registers (C = 48: three of the four).
        if (live >= 16) { CL_EACH16(CL_ST0) }
        if (live >= 32) { CL_EACH16(CL_ST1) }
        if (live >= 48) { CL_EACH16(CL_ST2) }
        if (live == 64) {
            CL_EACH16(CL_ST3)
            return;
        }
        if (live % 16 == 0) return;
    }
    _Alignas(64) uint8_t tmp[16 * 64];
#define CL_ST(m) _mm512_storeu_si512((void *)(tmp + 64 * (m)), r[m]);
    CL_EACH16(CL_ST)
#undef CL_ST
    if (fast) {
        for (size_t c = live & ~(size_t)15; c < live; c++) {
            ST16(out + c * ohw, L16(tmp + 64 * (c % 16) + 16 * (c / 16)));
        }
        return;
    }
    for (size_t c = 0; c < live; c++) memcpy(out + c * ohw, tmp + 64 * (c % 16) + 16 * (c / 16), n);
}

// Transposes, AVX2: two tiles side by side.
T256 static void tin_avx2(const uint8_t *const *src, size_t pix, bool safe, const uint8_t *end, uint8_t flip,
                          uint8_t *const *dst, uint8_t *run, size_t rows) {
    __m256i r[16];
    _Alignas(32) uint8_t tmp[32 * 16];
    const uint8_t *s[32];
    if (safe) {
        for (size_t p = 0; p < 32; p++) s[p] = src[p] + pix;
    } else {
        for (size_t p = 0; p < 32; p++) cl_copy16_bounded(tmp + 16 * p, src[p] + pix, end), s[p] = tmp + 16 * p;
    }
#define CL_LD(j) \
    r[j] = (j) >= rows ? _mm256_setzero_si256() : _mm256_inserti128_si256(_mm256_castsi128_si256(L16(s[j])), L16(s[16 + j]), 1);
    CL_EACH16(CL_LD)
#undef CL_LD
    const __m256i f = _mm256_set1_epi8((char)flip);
#define CL_X(j) r[j] = _mm256_xor_si256(r[j], f);
    CL_EACH16(CL_X)
#undef CL_X
    CL_TRANSPOSE(__m256i, _mm256_unpacklo_epi8, _mm256_unpackhi_epi8, r);
    if (dst == NULL) {
#define CL_ST(k) _mm256_storeu_si256((__m256i *)(void *)(run + 32 * (k)), r[k]);
        CL_EACH16(CL_ST)
#undef CL_ST
        return;
    }
#define CL_ST(k) _mm256_storeu_si256((__m256i *)(void *)dst[k], r[k]);
    CL_EACH16(CL_ST)
#undef CL_ST
}

T256 static void tout_avx2(const uint8_t *rows, uint8_t *out, size_t ohw, bool fast, size_t live, size_t n) {
    __m256i r[16];
#define CL_LD(k) r[k] = _mm256_loadu_si256((const __m256i *)(const void *)(rows + 32 * (k)));
    CL_EACH16(CL_LD)
#undef CL_LD
    CL_TRANSPOSE(__m256i, _mm256_unpacklo_epi8, _mm256_unpackhi_epi8, r);
    if (fast) {
#define CL_SA(m) ST16(out + (m) * ohw, _mm256_castsi256_si128(r[m]));
#define CL_SB(m) ST16(out + (16 + (m)) * ohw, _mm256_extracti128_si256(r[m], 1));
        if (live >= 16) { CL_EACH16(CL_SA) }
        if (live == 32) {
            CL_EACH16(CL_SB)
            return;
        }
        if (live == 16) return;
    }
    _Alignas(32) uint8_t tmp[16 * 32];
#define CL_ST(m) _mm256_storeu_si256((__m256i *)(void *)(tmp + 32 * (m)), r[m]);
    CL_EACH16(CL_ST)
#undef CL_ST
    if (fast) {
        for (size_t c = live & ~(size_t)15; c < live; c++) {
            ST16(out + c * ohw, L16(tmp + 32 * (c % 16) + 16 * (c / 16)));
        }
        return;
    }
    for (size_t c = 0; c < live; c++) memcpy(out + c * ohw, tmp + 32 * (c % 16) + 16 * (c / 16), n);
}


T512 static void prep_avx512(const cl_ctx *x, size_t c0, void *packed) {
    cl_pack512 *k = packed;
    const flotilla_q8_requant *rq = &x->p->requant;
    const size_t C = x->g->channels, taps = x->taps, nch = C - c0 < 64 ? C - c0 : 64, groups = (taps + 3) / 4;
    uint8_t copy[CL_B_MAX * CL_TAPS_MAX + 4];
    const uint8_t *wl = cl_block_weights(x, c0, nch, copy);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i ones = _mm512_set1_epi8(1), zero = _mm512_setzero_si512();
    k->hi = true;
    for (size_t q = 0; q < 4; q++) {
        const size_t live_n = nch > 16 * q ? nch - 16 * q : 0;
        const __mmask16 live = live_n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << live_n) - 1);
        const __m512i idx = _mm512_mullo_epi32(_mm512_add_epi32(lane, _mm512_set1_epi32((int32_t)(16 * q))),
                                               _mm512_set1_epi32((int32_t)taps));
        __m512i sum = zero;
        for (size_t g = 0; g < groups; g++) {
            const size_t valid = taps - 4 * g < 4 ? taps - 4 * g : 4;
            const uint32_t keep = valid == 4 ? 0xFFFFFFFFu : (1u << (8 * valid)) - 1;
            __m512i v = _mm512_mask_i32gather_epi32(zero, live, _mm512_add_epi32(idx, _mm512_set1_epi32((int32_t)(4 * g))),
                                                    (const void *)wl, 1);
            v = _mm512_and_si512(v, _mm512_set1_epi32((int32_t)keep));
            k->w[g][q] = v;
            sum = _mm512_dpbusd_epi32(sum, ones, v);  // Σ of the channel's weights
        }
        const size_t c = c0 + 16 * q;
        const __m512i bias = x->p->bias != NULL && live != 0 ? _mm512_maskz_loadu_epi32(live, x->p->bias + c) : zero;
        k->init[q] = _mm512_sub_epi32(bias, _mm512_mullo_epi32(_mm512_set1_epi32(x->z_eff), sum));
        __m512i mult, n;
        if (rq->per_channel) {
            mult = live != 0 ? _mm512_maskz_loadu_epi32(live, rq->multiplier + c) : zero;
            const __m512i s = live != 0 ? _mm512_maskz_loadu_epi32(live, rq->shift + c) : zero;
            n = _mm512_add_epi32(s, _mm512_set1_epi32(31));
        } else {
            mult = _mm512_set1_epi32(rq->multiplier[0]);
            n = _mm512_set1_epi32(31 + rq->shift[0]);
        }
        k->rq[q] = flotilla_q8_lanes16_make_avx512(mult, n);
        const __m512i n33 = _mm512_sub_epi32(n, _mm512_set1_epi32(33));
        if (_mm512_mask_cmpgt_epu32_mask(live, n33, _mm512_set1_epi32(29)) != 0) k->hi = false;  // n ∉ [33, 62]
        k->rnd32[q] = _mm512_sllv_epi32(_mm512_set1_epi32(1), n33);  // dead lanes: anything
        k->cnt32[q] = _mm512_sub_epi32(n, _mm512_set1_epi32(32));
    }
}

// Constant groups and live accumulators in each instantiation (3×3: three groups). Everything
// the loop reads besides the scratch is copied to locals first: the byte stores to oscr could
// alias any memory, which would make the compiler reload it per pixel.
T512 static inline __attribute__((always_inline)) void run_avx512_t(const cl_ctx *x, const cl_pack512 *k,
                                                                    const uint8_t *scr, size_t oy0, size_t oy1,
                                                                    uint8_t *out, size_t ldo, size_t keep,
                                                                    size_t groups, size_t live, bool last1,
                                                                    bool hi32) {
    const flotilla_f32_conv2d_geometry *g = x->g;
    const flotilla_q8_requant *rq = &x->p->requant;
    const size_t rowstep = g->stride_h * x->pitch * 64, colstep = g->stride_w * 64, ow = x->ow;
    const __m512i lo = _mm512_set1_epi64(rq->qmin - rq->zero_point), hi = _mm512_set1_epi64(rq->qmax - rq->zero_point);
    const __m512i zp = _mm512_set1_epi32(rq->zero_point);
    size_t off[CL_TAPS_MAX + 4];
    for (size_t t = 0; t < 4 * groups; t++) off[t] = x->off[t];
    const flotilla_q8_lanes16_avx512 lanes[4] = {k->rq[0], k->rq[1], k->rq[2], k->rq[3]};
    const __m512i init[4] = {k->init[0], k->init[1], k->init[2], k->init[3]};
    const __m512i rnd32[4] = {k->rnd32[0], k->rnd32[1], k->rnd32[2], k->rnd32[3]};
    const __m512i cnt32[4] = {k->cnt32[0], k->cnt32[1], k->cnt32[2], k->cnt32[3]};
    const __m512i lo32 = _mm512_set1_epi32(rq->qmin - rq->zero_point), hi32v = _mm512_set1_epi32(rq->qmax - rq->zero_point);
    const __m512i *w = &k->w[0][0];
    // Accumulator q, dword 4L + i ← scratch byte 16L + 4q + i (0x80: a zero byte).
    __m512i ext1[4];
    for (int q = 0; q < 4; q++) {
        const int b = 4 * q | (int)0x80808000u;
        ext1[q] = _mm512_broadcast_i32x4(_mm_setr_epi32(b, b + 1, b + 2, b + 3));
    }
    // Bytes of accumulator q's 16 stored (a partial NHWC block: masked, nothing past `keep`).
    __mmask16 km[4];
    for (size_t q = 0; q < 4; q++) {
        km[q] = keep >= 16 * (q + 1) ? (__mmask16)0xFFFF : keep > 16 * q ? (__mmask16)((1u << (keep - 16 * q)) - 1) : 0;
    }
    uint8_t *o = out;
    for (size_t oy = oy0; oy < oy1; oy++) {
        const uint8_t *row = scr + (oy - oy0) * rowstep;
        for (size_t ox = 0; ox < ow; ox++, o += ldo) {
            const uint8_t *s = row + ox * colstep;
            __m512i acc[4] = {init[0], init[1], init[2], init[3]};
            _Pragma("GCC unroll 16")
            for (size_t gi = 0; gi < groups; gi++) {
                if (last1 && gi + 1 == groups) {
                    // One tap left (3×3: tap 8): its quads are its bytes zero-extended, one
                    // in-lane byte shuffle per accumulator instead of eight unpacks. The
                    // weights' other three bytes are zero, as the unpack path's are.
                    const __m512i a = _mm512_loadu_si512((const void *)(s + off[4 * gi]));
                    _Pragma("GCC unroll 16")
                    for (size_t q = 0; q < live; q++) {
                        acc[q] = _mm512_dpbusd_epi32(acc[q], _mm512_shuffle_epi8(a, ext1[q]), w[4 * gi + q]);
                    }
                    continue;
                }
                const __m512i a = _mm512_loadu_si512((const void *)(s + off[4 * gi]));
                const __m512i b = _mm512_loadu_si512((const void *)(s + off[4 * gi + 1]));
                const __m512i c = _mm512_loadu_si512((const void *)(s + off[4 * gi + 2]));
                const __m512i d = _mm512_loadu_si512((const void *)(s + off[4 * gi + 3]));
                const __m512i ab_lo = _mm512_unpacklo_epi8(a, b), ab_hi = _mm512_unpackhi_epi8(a, b);
                const __m512i cd_lo = _mm512_unpacklo_epi8(c, d), cd_hi = _mm512_unpackhi_epi8(c, d);
                const __m512i quad[4] = {_mm512_unpacklo_epi16(ab_lo, cd_lo), _mm512_unpackhi_epi16(ab_lo, cd_lo),
                                         _mm512_unpacklo_epi16(ab_hi, cd_hi), _mm512_unpackhi_epi16(ab_hi, cd_hi)};
                _Pragma("GCC unroll 16")
                for (size_t q = 0; q < live; q++) acc[q] = _mm512_dpbusd_epi32(acc[q], quad[q], w[4 * gi + q]);
            }
            _Pragma("GCC unroll 16")
            for (size_t q = 0; q < live; q++) {
                __m128i b;
                if (hi32) {
                    // The 32-bit form with per-lane n: high dwords of the even and odd products
                    // merged by one shuffle, then rounding, shift, clamp and zero point in 32-bit
                    // lanes (exact for n in [33, 62], see flotilla_q8_requant16_hi_avx512).
                    const __m512i ev = _mm512_mul_epi32(acc[q], lanes[q].mult);
                    const __m512i od = _mm512_mul_epi32(_mm512_srli_epi64(acc[q], 32), lanes[q].mult_odd);
                    const __m512i h = _mm512_mask_shuffle_epi32(od, 0x5555, ev, (_MM_PERM_ENUM)0xF5);
                    const __m512i r = _mm512_srav_epi32(_mm512_add_epi32(h, rnd32[q]), cnt32[q]);
                    const __m512i c = _mm512_min_epi32(_mm512_max_epi32(r, lo32), hi32v);
                    b = _mm512_cvtepi32_epi8(_mm512_add_epi32(c, zp));
                } else {
                    b = flotilla_q8_requant16_lanes_pre_avx512(acc[q], &lanes[q], lo, hi, zp);
                }
                if (km[q] == 0xFFFF) {
                    _mm_storeu_si128((__m128i *)(void *)(o + 16 * q), b);
                } else {
                    _mm_mask_storeu_epi8(o + 16 * q, km[q], b);
                }
            }
        }
    }
}

T512 static void run_avx512(const cl_ctx *x, const void *packed, size_t nch, const uint8_t *scr, size_t oy0,
                            size_t oy1, uint8_t *oscr, size_t ldo, size_t keep) {
    const cl_pack512 *k = packed;
    const size_t groups = (x->taps + 3) / 4, live = (nch + 15) / 16;
    if (x->taps == 9 && k->hi) {
        switch (live) {
        case 1: run_avx512_t(x, k, scr, oy0, oy1, oscr, ldo, keep, 3, 1, true, true); return;
        case 2: run_avx512_t(x, k, scr, oy0, oy1, oscr, ldo, keep, 3, 2, true, true); return;
        case 3: run_avx512_t(x, k, scr, oy0, oy1, oscr, ldo, keep, 3, 3, true, true); return;
        default: run_avx512_t(x, k, scr, oy0, oy1, oscr, ldo, keep, 3, 4, true, true); return;
        }
    }
    if (x->taps == 9) {
        switch (live) {
        case 1: run_avx512_t(x, k, scr, oy0, oy1, oscr, ldo, keep, 3, 1, true, false); return;
        case 2: run_avx512_t(x, k, scr, oy0, oy1, oscr, ldo, keep, 3, 2, true, false); return;
        case 3: run_avx512_t(x, k, scr, oy0, oy1, oscr, ldo, keep, 3, 3, true, false); return;
        default: run_avx512_t(x, k, scr, oy0, oy1, oscr, ldo, keep, 3, 4, true, false); return;
        }
    }
    switch (live) {
    case 1: run_avx512_t(x, k, scr, oy0, oy1, oscr, ldo, keep, groups, 1, false, false); return;
    case 2: run_avx512_t(x, k, scr, oy0, oy1, oscr, ldo, keep, groups, 2, false, false); return;
    default: run_avx512_t(x, k, scr, oy0, oy1, oscr, ldo, keep, groups, live, false, false); return;
    }
}

T512 bool flotilla_q8_dwconv_cl__avx512vnni(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                            const void *input, void *output) {
    cl_ctx x;
    if (!cl_ctx_init(g, p, 64, false, &x)) return false;
    cl_pack512 packed;
    cl_drive(&x, input, output, &packed, NULL, 0, prep_avx512, run_avx512, tin_avx512, tout_avx512);
    return true;
}


T256 static void prep_avx2(const cl_ctx *x, size_t c0, void *packed) {
    cl_pack256 *k = packed;
    const flotilla_q8_requant *rq = &x->p->requant;
    const size_t C = x->g->channels, taps = x->taps, nch = C - c0 < 32 ? C - c0 : 32, groups = (taps + 1) / 2;
    uint8_t copy[CL_B_MAX * CL_TAPS_MAX + 4];
    const uint8_t *wl = cl_block_weights(x, c0, nch, copy);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), zero = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi16(1), lo16 = _mm256_set1_epi32(0xFFFF);
    k->hi = true;
    for (size_t q = 0; q < 4; q++) {
        const size_t live_n = nch > 8 * q ? nch - 8 * q : 0;
        const __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)live_n), lane);
        const __m256i idx = _mm256_mullo_epi32(_mm256_add_epi32(lane, _mm256_set1_epi32((int32_t)(8 * q))),
                                               _mm256_set1_epi32((int32_t)taps));
        __m256i sum = zero;
        for (size_t g = 0; g < groups; g++) {
            const __m256i v = _mm256_mask_i32gather_epi32(zero, (const int *)(const void *)wl,
                                                          _mm256_add_epi32(idx, _mm256_set1_epi32((int32_t)(2 * g))),
                                                          live, 1);
            // Bytes 0 and 1 (taps 2g, 2g + 1) sign-extended into the dword's two int16 halves.
            const __m256i w0 = _mm256_and_si256(_mm256_srai_epi32(_mm256_slli_epi32(v, 24), 24), lo16);
            __m256i w1 = _mm256_slli_epi32(_mm256_srai_epi32(_mm256_slli_epi32(v, 16), 24), 16);
            if (2 * g + 1 >= taps) w1 = zero;
            const __m256i w = _mm256_or_si256(w0, w1);
            k->w[g][q] = w;
            sum = _mm256_add_epi32(sum, _mm256_madd_epi16(w, ones));
        }
        const int32_t *bias = x->p->bias != NULL ? x->p->bias + c0 + 8 * q : NULL;
        const __m256i b = bias != NULL && live_n > 0 ? _mm256_maskload_epi32(bias, live) : zero;
        k->init[q] = _mm256_sub_epi32(b, _mm256_mullo_epi32(_mm256_set1_epi32(x->z_eff), sum));
        if (rq->per_channel) {
            const size_t c = c0 + 8 * q;
            k->mult[q] = live_n > 0 ? _mm256_maskload_epi32(rq->multiplier + c, live) : zero;
            const __m256i s = live_n > 0 ? _mm256_maskload_epi32(rq->shift + c, live) : zero;
            k->n[q] = _mm256_add_epi32(s, _mm256_set1_epi32(31));
        } else {
            k->mult[q] = _mm256_set1_epi32(rq->multiplier[0]);
            k->n[q] = _mm256_set1_epi32(31 + rq->shift[0]);
        }
        const __m256i n33 = _mm256_sub_epi32(k->n[q], _mm256_set1_epi32(33));
        const __m256i bad = _mm256_or_si256(_mm256_cmpgt_epi32(zero, n33), _mm256_cmpgt_epi32(n33, _mm256_set1_epi32(29)));
        if (_mm256_movemask_epi8(_mm256_and_si256(bad, live)) != 0) k->hi = false;  // n ∉ [33, 62]
        k->mult_odd[q] = _mm256_srli_epi64(k->mult[q], 32);
        k->rnd32[q] = _mm256_sllv_epi32(_mm256_set1_epi32(1), n33);  // dead lanes: anything
        k->cnt32[q] = _mm256_sub_epi32(k->n[q], _mm256_set1_epi32(32));
    }
}

T256 static inline __attribute__((always_inline)) void run_avx2_t(const cl_ctx *x, const cl_pack256 *k,
                                                                  const uint8_t *scr, size_t oy0, size_t oy1,
                                                                  uint8_t *out, size_t ldo, size_t keep,
                                                                  size_t groups, size_t live, bool hi32) {
    const flotilla_f32_conv2d_geometry *g = x->g;
    const flotilla_q8_requant *rq = &x->p->requant;
    const size_t rowstep = g->stride_h * x->pitch * 32, colstep = g->stride_w * 32;
    const __m256i zero = _mm256_setzero_si256();
    const __m256i lo32 = _mm256_set1_epi32(rq->qmin - rq->zero_point), hi32v = _mm256_set1_epi32(rq->qmax - rq->zero_point);
    const __m256i zp = _mm256_set1_epi32(rq->zero_point);
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m256i gather = _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1);
    uint8_t *o = out;
    for (size_t oy = oy0; oy < oy1; oy++) {
        const uint8_t *row = scr + (oy - oy0) * rowstep;
        for (size_t ox = 0; ox < x->ow; ox++, o += ldo) {
            const uint8_t *s = row + ox * colstep;
            __m256i acc[4] = {k->init[0], k->init[1], k->init[2], k->init[3]};
            _Pragma("GCC unroll 16")
            for (size_t gi = 0; gi < groups; gi++) {
                const __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(s + x->off[2 * gi]));
                const __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(s + x->off[2 * gi + 1]));
                const __m256i ab_lo = _mm256_unpacklo_epi8(a, b), ab_hi = _mm256_unpackhi_epi8(a, b);
                const __m256i pair[4] = {_mm256_unpacklo_epi8(ab_lo, zero), _mm256_unpackhi_epi8(ab_lo, zero),
                                         _mm256_unpacklo_epi8(ab_hi, zero), _mm256_unpackhi_epi8(ab_hi, zero)};
                _Pragma("GCC unroll 16")
            for (size_t q = 0; q < live; q++) {
                    acc[q] = _mm256_add_epi32(acc[q], _mm256_madd_epi16(pair[q], k->w[gi][q]));
                }
            }
            _Pragma("GCC unroll 16")
            for (size_t q = 0; q < live; q++) {
                __m128i b;
                if (hi32) {
                    // The 32-bit form with per-lane n (see run_avx512_t): exact for n in [33, 62].
                    const __m256i ev = _mm256_mul_epi32(acc[q], k->mult[q]);
                    const __m256i od = _mm256_mul_epi32(_mm256_srli_epi64(acc[q], 32), k->mult_odd[q]);
                    const __m256i h = _mm256_blend_epi32(_mm256_shuffle_epi32(ev, 0xF5), od, 0xAA);
                    const __m256i r = _mm256_srav_epi32(_mm256_add_epi32(h, k->rnd32[q]), k->cnt32[q]);
                    __m256i v = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(r, lo32), hi32v), zp);
                    v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, pick), gather);
                    b = _mm256_castsi256_si128(v);
                } else {
                    b = flotilla_q8_requant8_lanes_avx2(acc[q], k->mult[q], k->n[q], rq->zero_point, rq->qmin,
                                                        rq->qmax);
                }
                if (keep >= 8 * (q + 1)) {
                    _mm_storel_epi64((__m128i *)(void *)(o + 8 * q), b);
                } else {
                    // A partial NHWC block: only the live channels' bytes.
                    uint8_t tmp[16];
                    _mm_storeu_si128((__m128i *)(void *)tmp, b);
                    memcpy(o + 8 * q, tmp, keep - 8 * q);
                }
            }
        }
    }
}

T256 static void run_avx2(const cl_ctx *x, const void *packed, size_t nch, const uint8_t *scr, size_t oy0,
                          size_t oy1, uint8_t *oscr, size_t ldo, size_t keep) {
    const cl_pack256 *k = packed;
    const size_t groups = (x->taps + 1) / 2, live = (nch + 7) / 8;
    // 3×3: every live count its own instantiation. With a run-time count clang kept the
    // accumulators in memory (C = 16 or 48 ran 2× slower than C = 32 or 64).
    if (groups == 5 && k->hi) {
        switch (live) {
        case 1: run_avx2_t(x, k, scr, oy0, oy1, oscr, ldo, keep, 5, 1, true); return;
        case 2: run_avx2_t(x, k, scr, oy0, oy1, oscr, ldo, keep, 5, 2, true); return;
        case 3: run_avx2_t(x, k, scr, oy0, oy1, oscr, ldo, keep, 5, 3, true); return;
        default: run_avx2_t(x, k, scr, oy0, oy1, oscr, ldo, keep, 5, 4, true); return;
        }
    }
    if (groups == 5) {
        switch (live) {
        case 1: run_avx2_t(x, k, scr, oy0, oy1, oscr, ldo, keep, 5, 1, false); return;
        case 2: run_avx2_t(x, k, scr, oy0, oy1, oscr, ldo, keep, 5, 2, false); return;
        case 3: run_avx2_t(x, k, scr, oy0, oy1, oscr, ldo, keep, 5, 3, false); return;
        default: run_avx2_t(x, k, scr, oy0, oy1, oscr, ldo, keep, 5, 4, false); return;
        }
    }
    if (k->hi) {
        run_avx2_t(x, k, scr, oy0, oy1, oscr, ldo, keep, groups, live, true);
    } else {
        run_avx2_t(x, k, scr, oy0, oy1, oscr, ldo, keep, groups, live, false);
    }
}

T256 bool flotilla_q8_dwconv_cl__avx2(const flotilla_f32_conv2d_geometry *g, const flotilla_q8_dwconv_params *p,
                                      const void *input, void *output) {
    cl_ctx x;
    if (!cl_ctx_init(g, p, 32, false, &x)) return false;
    cl_pack256 packed;
    cl_drive(&x, input, output, &packed, NULL, 0, prep_avx2, run_avx2, tin_avx2, tout_avx2);
    return true;
}

// Plan-time packs (q8_dwconv_cl.h, cl_pack): the same prep, once per plan.
size_t flotilla_q8_dwconv_pack_size__avx512vnni(const flotilla_f32_conv2d_geometry *g) {
    return cl_pack_size(g, 64, sizeof(cl_pack512));
}

T512 flotilla_q8_status flotilla_q8_dwconv_pack__avx512vnni(const flotilla_f32_conv2d_geometry *g,
                                                            const flotilla_q8_dwconv_params *p, void *packed) {
    return cl_pack(g, p, 64, false, CL_LAYOUT_AVX512VNNI, sizeof(cl_pack512), prep_avx512, packed);
}

T512 flotilla_q8_status flotilla_q8_dwconv_packed__avx512vnni(const flotilla_f32_conv2d_geometry *g,
                                                              const flotilla_q8_dwconv_params *p, const void *packed,
                                                              const void *input, void *output) {
    CL_PACKED_RUN(64, false, CL_LAYOUT_AVX512VNNI, cl_pack512, prep_avx512, run_avx512, tin_avx512, tout_avx512,
                  flotilla_q8_dwconv__avx512vnni);
}

size_t flotilla_q8_dwconv_pack_size__avx2(const flotilla_f32_conv2d_geometry *g) {
    return cl_pack_size(g, 32, sizeof(cl_pack256));
}

T256 flotilla_q8_status flotilla_q8_dwconv_pack__avx2(const flotilla_f32_conv2d_geometry *g,
                                                      const flotilla_q8_dwconv_params *p, void *packed) {
    return cl_pack(g, p, 32, false, CL_LAYOUT_AVX2, sizeof(cl_pack256), prep_avx2, packed);
}

T256 flotilla_q8_status flotilla_q8_dwconv_packed__avx2(const flotilla_f32_conv2d_geometry *g,
                                                        const flotilla_q8_dwconv_params *p, const void *packed,
                                                        const void *input, void *output) {
    CL_PACKED_RUN(32, false, CL_LAYOUT_AVX2, cl_pack256, prep_avx2, run_avx2, tin_avx2, tout_avx2,
                  flotilla_q8_dwconv__avx2);
}


// The NHWC entries' prep and run (q8_dwconv_nhwc_x86.c): the same functions.
T512 void flotilla_q8_cl_prep__avx512vnni(const cl_ctx *x, size_t c0, void *packed) { prep_avx512(x, c0, packed); }
T512 void flotilla_q8_cl_run__avx512vnni(const cl_ctx *x, const void *packed, size_t nch, const uint8_t *scr,
                                          size_t oy0, size_t oy1, uint8_t *out, size_t ldo, size_t keep) {
    run_avx512(x, packed, nch, scr, oy0, oy1, out, ldo, keep);
}
T256 void flotilla_q8_cl_prep__avx2(const cl_ctx *x, size_t c0, void *packed) { prep_avx2(x, c0, packed); }
T256 void flotilla_q8_cl_run__avx2(const cl_ctx *x, const void *packed, size_t nch, const uint8_t *scr, size_t oy0,
                                   size_t oy1, uint8_t *out, size_t ldo, size_t keep) {
    run_avx2(x, packed, nch, scr, oy0, oy1, out, ldo, keep);
}
#endif
