// Channels-last int8 depthwise on NHWC images, x86 (the dwconv_nhwc entries; the driver:
// q8_dwconv_nhwc.h, the 64/32-channel blocks' prep and run: q8_dwconv_cl_x86.c).
#include "q8_dwconv_cl_x86.h"
#include "q8_dwconv_nhwc.h"

#if defined(__x86_64__)
// A pixel's channel block arrives in natural order; the run wants channel (B/4)·q + 4L + i at
// scratch byte 16L + 4q + i (the in-lane unpacks, see q8_dwconv_cl.h). In dwords: scratch dword
// 4L + q holds channel dword (B/16)·q + L, a 4×4 (AVX-512) or 2×4 (AVX2) dword transpose, one
// VPERMD per pixel. Outputs come out in natural order and are stored straight to the row.

// AVX-512: masked loads read exactly the live channels (dead bytes zero), so no read passes
// the pixel's block and none passes the input's end.
T512 static void cin_avx512(const uint8_t *src, size_t lds, size_t n, size_t nch, const uint8_t *end, uint8_t flip,
                            uint8_t *dst) {
    (void)end;
    const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m512i f = _mm512_set1_epi8((char)flip);
    if (nch == 64) {
        for (size_t i = 0; i < n; i++) {
            const __m512i v = _mm512_loadu_si512((const void *)(src + i * lds));
            _mm512_storeu_si512((void *)(dst + 64 * i), _mm512_permutexvar_epi32(idx, _mm512_xor_si512(v, f)));
        }
        return;
    }
    const __mmask64 live = ((__mmask64)1 << nch) - 1;
    for (size_t i = 0; i < n; i++) {
        const __m512i v = _mm512_maskz_loadu_epi8(live, src + i * lds);
        _mm512_storeu_si512((void *)(dst + 64 * i), _mm512_permutexvar_epi32(idx, _mm512_xor_si512(v, f)));
    }
}

// AVX2: whole 32-byte loads while they stay inside the input (a partial block's load reads the
// next pixel's bytes into dead lanes); the input's last pixels through a bounded copy.
T256 static void cin_avx2(const uint8_t *src, size_t lds, size_t n, size_t nch, const uint8_t *end, uint8_t flip,
                          uint8_t *dst) {
    const __m256i idx = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    const __m256i f = _mm256_set1_epi8((char)flip);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *s = src + i * lds;
        __m256i v;
        if ((size_t)(end - s) >= 32) {
            v = _mm256_loadu_si256((const __m256i *)(const void *)s);
        } else {
            _Alignas(32) uint8_t tmp[32] = {0};
            memcpy(tmp, s, nch);
            v = _mm256_load_si256((const __m256i *)(const void *)tmp);
        }
        _mm256_storeu_si256((__m256i *)(void *)(dst + 32 * i), _mm256_permutevar8x32_epi32(_mm256_xor_si256(v, f), idx));
    }
}

// AVX-512, few channels (a 16-channel layer on a 48×48 plane: a 64-channel block would carry
// 48 dead lanes through every unpack and requant). Blocks of 16 channels (B = 16, natural
// order) and four output pixels per register: at stride_w = 1 the four pixels' taps are 64
// contiguous scratch bytes, and the in-lane unpacks leave accumulator q, dword 4L + i =
// pixel L, channel 4q + i. Constants are flotilla_q8_cl_prep__avx512vnni's accumulator 0 (channels c0 … c0 + 15)
// with 128-bit lane q broadcast; the four requantized accumulators are dword-transposed back
// to one 16-byte lane per pixel.
typedef struct cl_pack16x4 {
    __m512i w[CL_TAPS_MAX / 4][4];
    __m512i init[4], rnd32[4], cnt32[4];
    flotilla_q8_lanes16_avx512 rq[4];
    bool hi;
} cl_pack16x4;

// The AVX-512 VNNI entry's kernel for g, from the geometry alone (pack and run agree; the pack
// records it by its layout id). The 16×4 kernel wins on small channel counts at stride_w = 1
// (benchmarks/int8-dwconv); otherwise 64-channel blocks. Rows too wide for a scratch band of
// 64-byte pixels (the kernel's rows must fit CL_IN_MAX: 3×3 up to 170 padded pixels) take the
// narrower blocks that fit: 16×4 at stride_w = 1 (3×3: up to 682), else the 32-channel AVX2
// blocks (up to 341); past those (or beyond CL_TAPS_MAX taps) the reference.
typedef enum { NHWC512_REF, NHWC512_64, NHWC512_16X4, NHWC512_32 } nhwc512_kind;

static nhwc512_kind nhwc512_choose(const flotilla_f32_conv2d_geometry *g) {
    const flotilla_q8_dwconv_params probe = {.x_type = FLOTILLA_Q8_U8};
    cl_ctx x;
    const bool fits16 = g->stride_w == 1 && cl_ctx_init(g, &probe, 16, false, &x);
    if (fits16 && g->channels <= 16) return NHWC512_16X4;
    if (cl_ctx_init(g, &probe, 64, false, &x)) return NHWC512_64;
    if (fits16) return NHWC512_16X4;
    if (cl_ctx_init(g, &probe, 32, false, &x)) return NHWC512_32;
    return NHWC512_REF;
}

T512 static void prep_16x4(const cl_ctx *x, size_t c0, void *packed) {
    cl_pack16x4 *k = packed;
    cl_pack512 wide;
    flotilla_q8_cl_prep__avx512vnni(x, c0, &wide);
#define BQ(v, q) _mm512_shuffle_i32x4(v, v, (int)(0x55 * (q)))
    const size_t groups = (x->taps + 3) / 4;
    for (size_t q = 0; q < 4; q++) {
        switch (q) {
#define ONE(Q)                                                                          \
    case Q:                                                                             \
        for (size_t g = 0; g < groups; g++) k->w[g][Q] = BQ(wide.w[g][0], Q);           \
        k->init[Q] = BQ(wide.init[0], Q), k->rnd32[Q] = BQ(wide.rnd32[0], Q);           \
        k->cnt32[Q] = BQ(wide.cnt32[0], Q);                                             \
        k->rq[Q].mult = BQ(wide.rq[0].mult, Q), k->rq[Q].mult_odd = BQ(wide.rq[0].mult_odd, Q); \
        k->rq[Q].rnd_even = BQ(wide.rq[0].rnd_even, Q), k->rq[Q].rnd_odd = BQ(wide.rq[0].rnd_odd, Q); \
        k->rq[Q].n_even = BQ(wide.rq[0].n_even, Q), k->rq[Q].n_odd = BQ(wide.rq[0].n_odd, Q); \
        break;
            ONE(0) ONE(1) ONE(2) ONE(3)
#undef ONE
        }
    }
#undef BQ
    // wide.hi covers every live lane of the block, i.e. these 16 channels.
    k->hi = wide.hi;
}

T512 static inline __attribute__((always_inline)) void run_16x4_t(const cl_ctx *x, const cl_pack16x4 *k,
                                                                  const uint8_t *scr, size_t oy0, size_t oy1,
                                                                  uint8_t *out, size_t ldo, size_t keep,
                                                                  size_t groups, bool hi32) {
    const flotilla_f32_conv2d_geometry *g = x->g;
    const flotilla_q8_requant *rq = &x->p->requant;
    const size_t rowstep = g->stride_h * x->pitch * 16, ow = x->ow;
    const __m512i lo = _mm512_set1_epi64(rq->qmin - rq->zero_point), hi = _mm512_set1_epi64(rq->qmax - rq->zero_point);
    const __m512i zp = _mm512_set1_epi32(rq->zero_point);
    const __m512i lo32 = _mm512_set1_epi32(rq->qmin - rq->zero_point), hi32v = _mm512_set1_epi32(rq->qmax - rq->zero_point);
    const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    size_t off[CL_TAPS_MAX + 4];
    for (size_t t = 0; t < 4 * groups; t++) off[t] = x->off[t];
    const flotilla_q8_lanes16_avx512 lanes[4] = {k->rq[0], k->rq[1], k->rq[2], k->rq[3]};
    const __m512i init[4] = {k->init[0], k->init[1], k->init[2], k->init[3]};
    const __m512i rnd32[4] = {k->rnd32[0], k->rnd32[1], k->rnd32[2], k->rnd32[3]};
    const __m512i cnt32[4] = {k->cnt32[0], k->cnt32[1], k->cnt32[2], k->cnt32[3]};
    const __m512i *w = &k->w[0][0];
    const __mmask16 km = keep >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << keep) - 1);
    for (size_t oy = oy0; oy < oy1; oy++) {
        const uint8_t *row = scr + (oy - oy0) * rowstep;
        uint8_t *o = out + (oy - oy0) * ow * ldo;
        for (size_t ox = 0; ox < ow; ox += 4) {
            // Pixels past ow read scratch bytes past the row (slack in cl_drive_nhwc's buffer);
            // they are never stored.
            const uint8_t *s = row + ox * 16;
            __m512i acc[4] = {init[0], init[1], init[2], init[3]};
            _Pragma("GCC unroll 16")
            for (size_t gi = 0; gi < groups; gi++) {
                const __m512i a = _mm512_loadu_si512((const void *)(s + off[4 * gi]));
                const __m512i b = _mm512_loadu_si512((const void *)(s + off[4 * gi + 1]));
                const __m512i c = _mm512_loadu_si512((const void *)(s + off[4 * gi + 2]));
                const __m512i d = _mm512_loadu_si512((const void *)(s + off[4 * gi + 3]));
                const __m512i ab_lo = _mm512_unpacklo_epi8(a, b), ab_hi = _mm512_unpackhi_epi8(a, b);
                const __m512i cd_lo = _mm512_unpacklo_epi8(c, d), cd_hi = _mm512_unpackhi_epi8(c, d);
                acc[0] = _mm512_dpbusd_epi32(acc[0], _mm512_unpacklo_epi16(ab_lo, cd_lo), w[4 * gi]);
                acc[1] = _mm512_dpbusd_epi32(acc[1], _mm512_unpackhi_epi16(ab_lo, cd_lo), w[4 * gi + 1]);
                acc[2] = _mm512_dpbusd_epi32(acc[2], _mm512_unpacklo_epi16(ab_hi, cd_hi), w[4 * gi + 2]);
                acc[3] = _mm512_dpbusd_epi32(acc[3], _mm512_unpackhi_epi16(ab_hi, cd_hi), w[4 * gi + 3]);
            }
            __m128i b[4];
            _Pragma("GCC unroll 4")
            for (size_t q = 0; q < 4; q++) {
                if (hi32) {
                    const __m512i ev = _mm512_mul_epi32(acc[q], lanes[q].mult);
                    const __m512i od = _mm512_mul_epi32(_mm512_srli_epi64(acc[q], 32), lanes[q].mult_odd);
                    const __m512i h = _mm512_mask_shuffle_epi32(od, 0x5555, ev, (_MM_PERM_ENUM)0xF5);
                    const __m512i r = _mm512_srav_epi32(_mm512_add_epi32(h, rnd32[q]), cnt32[q]);
                    const __m512i cl = _mm512_min_epi32(_mm512_max_epi32(r, lo32), hi32v);
                    b[q] = _mm512_cvtepi32_epi8(_mm512_add_epi32(cl, zp));
                } else {
                    b[q] = flotilla_q8_requant16_lanes_pre_avx512(acc[q], &lanes[q], lo, hi, zp);
                }
            }
            // b[q] byte 4L + i = pixel L, channel 4q + i → lane L = pixel L's 16 channels.
            const __m512i v = _mm512_permutexvar_epi32(
                idx, _mm512_inserti32x4(_mm512_inserti32x4(_mm512_inserti32x4(_mm512_castsi128_si512(b[0]), b[1], 1),
                                                           b[2], 2),
                                        b[3], 3));
            const size_t n = ow - ox < 4 ? ow - ox : 4;
            uint8_t *po = o + ox * ldo;
            if (n == 4 && ldo == 16 && keep == 16) {
                _mm512_storeu_si512((void *)po, v);
                continue;
            }
            _mm_mask_storeu_epi8(po, km, _mm512_castsi512_si128(v));
            if (n > 1) _mm_mask_storeu_epi8(po + ldo, km, _mm512_extracti32x4_epi32(v, 1));
            if (n > 2) _mm_mask_storeu_epi8(po + 2 * ldo, km, _mm512_extracti32x4_epi32(v, 2));
            if (n > 3) _mm_mask_storeu_epi8(po + 3 * ldo, km, _mm512_extracti32x4_epi32(v, 3));
        }
    }
}

T512 static void run_16x4(const cl_ctx *x, const void *packed, size_t nch, const uint8_t *scr, size_t oy0, size_t oy1,
                          uint8_t *out, size_t ldo, size_t keep) {
    (void)nch;
    const cl_pack16x4 *k = packed;
    const size_t groups = (x->taps + 3) / 4;
    if (groups == 3) {
        if (k->hi) {
            run_16x4_t(x, k, scr, oy0, oy1, out, ldo, keep, 3, true);
        } else {
            run_16x4_t(x, k, scr, oy0, oy1, out, ldo, keep, 3, false);
        }
        return;
    }
    if (k->hi) {
        run_16x4_t(x, k, scr, oy0, oy1, out, ldo, keep, groups, true);
    } else {
        run_16x4_t(x, k, scr, oy0, oy1, out, ldo, keep, groups, false);
    }
}

// B = 16, natural order: masked 16-byte loads.
T512 static void cin16_avx512(const uint8_t *src, size_t lds, size_t n, size_t nch, const uint8_t *end, uint8_t flip,
                              uint8_t *dst) {
    (void)end;
    const __m128i f = _mm_set1_epi8((char)flip);
    const __mmask16 live = nch >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nch) - 1);
    for (size_t i = 0; i < n; i++) {
        _mm_storeu_si128((__m128i *)(void *)(dst + 16 * i), _mm_xor_si128(_mm_maskz_loadu_epi8(live, src + i * lds), f));
    }
}

size_t flotilla_q8_dwconv_nhwc_pack_size__avx512vnni(const flotilla_f32_conv2d_geometry *g) {
    switch (nhwc512_choose(g)) {
    case NHWC512_16X4: return cl_pack_size_for(g, 16, sizeof(cl_pack16x4), true);
    case NHWC512_64: return cl_pack_size_for(g, 64, sizeof(cl_pack512), true);
    case NHWC512_32: return cl_pack_size_for(g, 32, sizeof(cl_pack256), true);
    case NHWC512_REF: break;
    }
    return 0;
}

T512 flotilla_q8_status flotilla_q8_dwconv_nhwc_pack__avx512vnni(const flotilla_f32_conv2d_geometry *g,
                                                                 const flotilla_q8_dwconv_params *p, void *packed) {
    switch (nhwc512_choose(g)) {
    case NHWC512_16X4:
        return cl_pack_for(g, p, 16, false, CL_LAYOUT_NHWC_AVX512VNNI_16X4, sizeof(cl_pack16x4), prep_16x4, true,
                           packed);
    case NHWC512_64:
        return cl_pack_for(g, p, 64, false, CL_LAYOUT_NHWC_AVX512VNNI, sizeof(cl_pack512),
                           flotilla_q8_cl_prep__avx512vnni, true, packed);
    case NHWC512_32:
        return cl_pack_for(g, p, 32, false, CL_LAYOUT_NHWC_AVX512VNNI_32, sizeof(cl_pack256), flotilla_q8_cl_prep__avx2,
                           true, packed);
    case NHWC512_REF: break;
    }
    return g->channels == 0 ? FLOTILLA_Q8_EMPTY : FLOTILLA_Q8_PACK_MISMATCH;
}

T512 flotilla_q8_status flotilla_q8_dwconv_nhwc__avx512vnni(const flotilla_f32_conv2d_geometry *g,
                                                            const flotilla_q8_dwconv_params *p, const void *packed,
                                                            const void *input, void *output) {
    switch (nhwc512_choose(g)) {
    case NHWC512_16X4:
        CL_NHWC_RUN(16, false, CL_LAYOUT_NHWC_AVX512VNNI_16X4, cl_pack16x4, prep_16x4, run_16x4, cin16_avx512);
    case NHWC512_64:
        CL_NHWC_RUN(64, false, CL_LAYOUT_NHWC_AVX512VNNI, cl_pack512, flotilla_q8_cl_prep__avx512vnni,
                    flotilla_q8_cl_run__avx512vnni, cin_avx512);
    case NHWC512_32:
        CL_NHWC_RUN(32, false, CL_LAYOUT_NHWC_AVX512VNNI_32, cl_pack256, flotilla_q8_cl_prep__avx2,
                    flotilla_q8_cl_run__avx2, cin_avx2);
    case NHWC512_REF: break;
    }
    if (packed != NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    flotilla_q8_dwconv_nhwc__ref(g, p, input, output);
    return FLOTILLA_Q8_OK;
}

size_t flotilla_q8_dwconv_nhwc_pack_size__avx2(const flotilla_f32_conv2d_geometry *g) {
    return cl_pack_size_for(g, 32, sizeof(cl_pack256), true);
}

T256 flotilla_q8_status flotilla_q8_dwconv_nhwc_pack__avx2(const flotilla_f32_conv2d_geometry *g,
                                                           const flotilla_q8_dwconv_params *p, void *packed) {
    return cl_pack_for(g, p, 32, false, CL_LAYOUT_NHWC_AVX2, sizeof(cl_pack256), flotilla_q8_cl_prep__avx2, true, packed);
}

T256 flotilla_q8_status flotilla_q8_dwconv_nhwc__avx2(const flotilla_f32_conv2d_geometry *g,
                                                      const flotilla_q8_dwconv_params *p, const void *packed,
                                                      const void *input, void *output) {
    CL_NHWC_RUN(32, false, CL_LAYOUT_NHWC_AVX2, cl_pack256, flotilla_q8_cl_prep__avx2, flotilla_q8_cl_run__avx2, cin_avx2);
}
#endif
