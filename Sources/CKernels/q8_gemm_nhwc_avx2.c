// AVX2 channels-last int8 GEMM (the table's gemm_nhwc) on the weights gemm_pack wrote for the
// NCHW kernel (4-row panels; 7-bit VPMADDUBSW quads or the int16 widening layout), with no
// repack of anything per call.
//
// Lanes are output channels, 8 per ymm (two 4-row panels). Per pixel and k quad the 4
// activation bytes are broadcast (s8 XORed with 0x80; the pack folded the +128 into acc_init):
// - 7-bit layout: the two panels' quad rows side by side are 8 channels × 4 bytes; VPMADDUBSW
//   (exact: |w| ≤ 63) and VPMADDWD by 1 give each channel's 4 products summed;
// - widening layout: each panel's quad group is 4 rows × int16 (w0, w2, w1, w3), multiplied by
//   VPMADDWD with the activation bytes spread to int16 (x0, x2, x1, x3); each panel keeps its
//   own accumulator of pair sums, joined by one VPHADDD per pixel at the end.
// A tile is R pixels × 16 channels; blocks of 16 channels are the outer loop, so the per-lane
// requant constants are computed once per block and its weights stay in L1 over all N.
// The last K mod 4 bytes of each row are copied byte by byte: nothing past A + (N−1)·lda + K is
// ever read.
#include "q8_internal.h"
#include "q8_x86_requant.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma")))

enum { MR = 4, CB = 16, NC_MAX = 2, R_MAX = 4, R_WIDEN = 2 };
enum { MODE_FOLD = 0, MODE_HI = 1, MODE_64 = 2 };  // as in q8_gemm_nhwc_avx512vnni.c

size_t flotilla_q8_gemm_nhwc_workspace_size__avx2(size_t N, size_t K) {
    (void)N, (void)K;
    return 0;
}

typedef struct block {
    __m256i init[NC_MAX], mult[NC_MAX], m_odd[NC_MAX], rnd[NC_MAX], cnt[NC_MAX], n[NC_MAX];
    __m256i zp16, lo8, hi8;
    const int8_t *w0[NC_MAX], *w1[NC_MAX];  // the chunk's two panels (w1 = w0 past the last panel)
    size_t live;
    int mode;
    bool clamp, u8;
} block;

// Panel p's first byte: 16 bytes (7-bit) or 16 int16 (widening) per panel and quad group.
static TARGET void block_setup(size_t M, size_t m0, size_t k4, bool widen, const int8_t *w, const int32_t *acc_init,
                               const flotilla_q8_requant *rq, block *b) {
    const size_t live = M - m0 < CB ? M - m0 : CB, panels = flotilla_q8_round_up(M, MR) / MR;
    int32_t mult[CB], sh[CB], init[CB], rnd[CB], cnt[CB], n[CB];
    const int32_t z = rq->zero_point, az21 = 2 * (z < 0 ? -z : z) + 1;
    bool hi = true, fold = true;
    for (size_t i = 0; i < CB; i++) {
        if (i >= live) {  // dead lanes: harmless constants, never stored
            mult[i] = 0, sh[i] = 2, init[i] = 0;
            continue;
        }
        mult[i] = rq->per_channel ? rq->multiplier[m0 + i] : rq->multiplier[0];
        sh[i] = rq->per_channel ? rq->shift[m0 + i] : rq->shift[0];
        init[i] = acc_init[m0 + i];
        if (!flotilla_q8_requant_hi_ok(sh[i])) {
            hi = fold = false;
        } else if (((int32_t)1 << 30) >> (sh[i] - 2) < az21) {
            fold = false;  // (2|z| + 1)·2ⁿ⁻³³ > 2³⁰ could overflow the rounded sum
        }
    }
    b->mode = fold ? MODE_FOLD : hi ? MODE_HI : MODE_64;
    for (size_t i = 0; i < CB; i++) {
        const int32_t s = sh[i] >= 2 ? sh[i] : 2;
        cnt[i] = s - 1;
        rnd[i] = (fold ? 2 * z + 1 : 1) * ((int32_t)1 << (s - 2));
        n[i] = 31 + sh[i];
    }
    const size_t elem = widen ? 2 : 1, panel_bytes = k4 * 4 * MR * elem;
    for (size_t c = 0; c < NC_MAX; c++) {
#define LD8(v) _mm256_loadu_si256((const __m256i *)(const void *)((v) + 8 * c))
        b->init[c] = LD8(init), b->mult[c] = LD8(mult), b->rnd[c] = LD8(rnd), b->cnt[c] = LD8(cnt), b->n[c] = LD8(n);
#undef LD8
        b->m_odd[c] = _mm256_srli_epi64(b->mult[c], 32);
        const size_t p = m0 / MR + 2 * c;
        b->w0[c] = p < panels ? w + p * panel_bytes : w;
        b->w1[c] = p + 1 < panels ? b->w0[c] + panel_bytes : b->w0[c];
    }
    b->zp16 = _mm256_set1_epi16((int16_t)z);
    b->lo8 = _mm256_set1_epi8((char)rq->qmin), b->hi8 = _mm256_set1_epi8((char)rq->qmax);
    b->u8 = rq->type == FLOTILLA_Q8_U8;
    b->clamp = rq->qmin > (b->u8 ? 0 : -128) || rq->qmax < (b->u8 ? 255 : 127);
    b->live = live;
}

static inline __attribute__((always_inline)) TARGET int32_t load_quad(const uint8_t *p, size_t bytes) {
    int32_t q = 0;
    if (bytes == 4) {
        memcpy(&q, p, 4);
    } else {
        uint8_t t[4] = {0, 0, 0, 0};
        for (size_t i = 0; i < bytes; i++) t[i] = p[i];
        memcpy(&q, t, 4);
    }
    return q;
}

static __attribute__((noinline, cold)) TARGET void store_64(const int32_t *acc, size_t R, size_t NC, const block *b,
                                                            const flotilla_q8_requant *rq, uint8_t *c, size_t ldc) {
    for (size_t r = 0; r < R; r++) {
        uint8_t out[CB];
        for (size_t j = 0; j < NC; j++) {
            const __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(acc + r * CB + 8 * j));
            _mm_storel_epi64((__m128i *)(void *)(out + 8 * j),
                             flotilla_q8_requant8_lanes_avx2(x, b->mult[j], b->n[j], rq->zero_point, rq->qmin, rq->qmax));
        }
        memcpy(c + r * ldc, out, b->live);
    }
}

// One pixel's NC chunks (accumulators in channel order, init included) → its bytes. After the
// packs, 128-bit lane L holds chunk j's channels 4L … 4L + 3 in dword j; one dword permute puts
// them in channel order. Saturation in the packs cannot change a clamped result (see
// q8_gemm_nhwc_avx512vnni.c).
static inline __attribute__((always_inline)) TARGET void pixel_store(const size_t NC, const __m256i acc[NC_MAX],
                                                                     const block *b, bool fold, bool full, uint8_t *c) {
    const __m256i q0 = flotilla_q8_requant8_hi_lanes_avx2(acc[0], b->mult[0], b->m_odd[0], b->rnd[0], b->cnt[0]);
    const __m256i q1 =
        NC > 1 ? flotilla_q8_requant8_hi_lanes_avx2(acc[1], b->mult[1], b->m_odd[1], b->rnd[1], b->cnt[1]) : q0;
    __m256i v = _mm256_packs_epi32(q0, q1);
    if (!fold) v = _mm256_adds_epi16(v, b->zp16);
    __m256i y = b->u8 ? _mm256_packus_epi16(v, v) : _mm256_packs_epi16(v, v);
    if (b->clamp) {
        y = b->u8 ? _mm256_min_epu8(_mm256_max_epu8(y, b->lo8), b->hi8)
                  : _mm256_min_epi8(_mm256_max_epi8(y, b->lo8), b->hi8);
    }
    const __m128i bytes = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(y, _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0)));
    if (full && NC == 2) {
        _mm_storeu_si128((__m128i *)(void *)c, bytes);
    } else if (full) {
        _mm_storel_epi64((__m128i *)(void *)c, bytes);
    } else {
        uint8_t t[16];
        _mm_storeu_si128((__m128i *)(void *)t, bytes);
        memcpy(c, t, b->live);
    }
}

static inline __attribute__((always_inline)) TARGET void tile_epilogue(const size_t NC, const size_t R,
                                                                       __m256i acc[][NC_MAX], const block *b,
                                                                       const flotilla_q8_requant *rq, uint8_t *c,
                                                                       size_t ldc) {
    if (b->mode == MODE_64) {
        int32_t buf[R_MAX * CB];
#pragma GCC unroll 4
        for (size_t r = 0; r < R; r++) {
#pragma GCC unroll 2
            for (size_t j = 0; j < NC; j++) _mm256_storeu_si256((__m256i *)(void *)(buf + r * CB + 8 * j), acc[r][j]);
        }
        store_64(buf, R, NC, b, rq, c, ldc);
        return;
    }
    const bool fold = b->mode == MODE_FOLD, full = b->live == 8 * NC;
#pragma GCC unroll 4
    for (size_t r = 0; r < R; r++) pixel_store(NC, acc[r], b, fold, full, c + r * ldc);
}

// 7-bit layout: rows g of the chunk's two panels as one ymm (channels 0–3, 4–7).
static inline __attribute__((always_inline)) TARGET __m256i panel_pair(const int8_t *w0, const int8_t *w1, size_t g) {
    return _mm256_loadu2_m128i((const __m128i *)(const void *)(w1 + g * 4 * MR),
                               (const __m128i *)(const void *)(w0 + g * 4 * MR));
}

// Quad group g of R pixels: bytes = 4, or K mod 4 for the last group (a constant in the loop).
static inline __attribute__((always_inline)) TARGET void step_maddubs(const size_t NC, const size_t R, size_t g,
                                                                      const size_t bytes, const uint8_t *a, size_t lda,
                                                                      const block *b, __m256i flip,
                                                                      __m256i acc[][NC_MAX]) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i w[NC_MAX];
#pragma GCC unroll 2
    for (size_t j = 0; j < NC; j++) w[j] = panel_pair(b->w0[j], b->w1[j], g);
#pragma GCC unroll 4
    for (size_t r = 0; r < R; r++) {
        const __m256i x = _mm256_xor_si256(_mm256_set1_epi32(load_quad(a + r * lda + 4 * g, bytes)), flip);
#pragma GCC unroll 2
        for (size_t j = 0; j < NC; j++) {
            acc[r][j] = _mm256_add_epi32(acc[r][j], _mm256_madd_epi16(_mm256_maddubs_epi16(x, w[j]), ones));
        }
    }
}

static inline __attribute__((always_inline)) TARGET void step_widen(const size_t NC, const size_t R, size_t g,
                                                                    const size_t bytes, const uint8_t *a, size_t lda,
                                                                    const block *b, __m256i flip,
                                                                    __m256i e[][NC_MAX], __m256i o[][NC_MAX]) {
    const __m256i spread = _mm256_setr_epi8(0, -1, 2, -1, 1, -1, 3, -1, 0, -1, 2, -1, 1, -1, 3, -1,
                                            0, -1, 2, -1, 1, -1, 3, -1, 0, -1, 2, -1, 1, -1, 3, -1);
#pragma GCC unroll 3
    for (size_t r = 0; r < R; r++) {
        const __m256i x = _mm256_set1_epi32(load_quad(a + r * lda + 4 * g, bytes));
        const __m256i xs = _mm256_shuffle_epi8(_mm256_xor_si256(x, flip), spread);
#pragma GCC unroll 2
        for (size_t j = 0; j < NC; j++) {
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)(b->w0[j] + g * 32));
            const __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(b->w1[j] + g * 32));
            e[r][j] = _mm256_add_epi32(e[r][j], _mm256_madd_epi16(xs, w0));
            o[r][j] = _mm256_add_epi32(o[r][j], _mm256_madd_epi16(xs, w1));
        }
    }
}

static inline __attribute__((always_inline)) TARGET void tile_maddubs(const size_t NC, const size_t R, size_t K,
                                                                      const uint8_t *a, size_t lda, const block *b,
                                                                      __m256i flip, const flotilla_q8_requant *rq,
                                                                      uint8_t *c, size_t ldc) {
    __m256i acc[R_MAX][NC_MAX];
#pragma GCC unroll 4
    for (size_t r = 0; r < R; r++) {
#pragma GCC unroll 2
        for (size_t j = 0; j < NC; j++) acc[r][j] = b->init[j];
    }
    for (size_t g = 0; g < K / 4; g++) step_maddubs(NC, R, g, 4, a, lda, b, flip, acc);
    if (K % 4 != 0) step_maddubs(NC, R, K / 4, K % 4, a, lda, b, flip, acc);
    tile_epilogue(NC, R, acc, b, rq, c, ldc);
}

static inline __attribute__((always_inline)) TARGET void tile_widen(const size_t NC, const size_t R, size_t K,
                                                                    const uint8_t *a, size_t lda, const block *b,
                                                                    __m256i flip, const flotilla_q8_requant *rq,
                                                                    uint8_t *c, size_t ldc) {
    __m256i e[R_WIDEN][NC_MAX], o[R_WIDEN][NC_MAX];  // panel w0's and w1's pair sums
#pragma GCC unroll 3
    for (size_t r = 0; r < R; r++) {
#pragma GCC unroll 2
        for (size_t j = 0; j < NC; j++) e[r][j] = o[r][j] = _mm256_setzero_si256();
    }
    for (size_t g = 0; g < K / 4; g++) step_widen(NC, R, g, 4, a, lda, b, flip, e, o);
    if (K % 4 != 0) step_widen(NC, R, K / 4, K % 4, a, lda, b, flip, e, o);
    // hadd: [w0 r0, w0 r1, w1 r0, w1 r1 | w0 r2, w0 r3, w1 r2, w1 r3] → channel order.
    const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
    __m256i acc[R_WIDEN][NC_MAX];
#pragma GCC unroll 3
    for (size_t r = 0; r < R; r++) {
#pragma GCC unroll 2
        for (size_t j = 0; j < NC; j++) {
            acc[r][j] = _mm256_add_epi32(_mm256_permutevar8x32_epi32(_mm256_hadd_epi32(e[r][j], o[r][j]), order),
                                         b->init[j]);
        }
    }
    tile_epilogue(NC, R, acc, b, rq, c, ldc);
}

static inline __attribute__((always_inline)) TARGET void block_run(const bool widen, const size_t NC, size_t N,
                                                                   size_t K, const uint8_t *a, size_t lda,
                                                                   const block *b, __m256i flip,
                                                                   const flotilla_q8_requant *rq, uint8_t *c,
                                                                   size_t ldc) {
    size_t n = 0;
    if (widen) {
        for (; n + R_WIDEN <= N; n += R_WIDEN) tile_widen(NC, R_WIDEN, K, a + n * lda, lda, b, flip, rq, c + n * ldc, ldc);
        if (n < N) tile_widen(NC, 1, K, a + n * lda, lda, b, flip, rq, c + n * ldc, ldc);
        return;
    }
    for (; n + R_MAX <= N; n += R_MAX) tile_maddubs(NC, R_MAX, K, a + n * lda, lda, b, flip, rq, c + n * ldc, ldc);
    a += n * lda, c += n * ldc;
    switch (N - n) {
    case 1: tile_maddubs(NC, 1, K, a, lda, b, flip, rq, c, ldc); break;
    case 2: tile_maddubs(NC, 2, K, a, lda, b, flip, rq, c, ldc); break;
    case 3: tile_maddubs(NC, 3, K, a, lda, b, flip, rq, c, ldc); break;
    default: break;
    }
}

#define BLOCK_RUN(name, widen, nc)                                                                                \
    static __attribute__((noinline)) TARGET void name(size_t N, size_t K, const uint8_t *a, size_t lda,           \
                                                      const block *b, __m256i flip, const flotilla_q8_requant *rq, \
                                                      uint8_t *c, size_t ldc) {                                   \
        block_run(widen, nc, N, K, a, lda, b, flip, rq, c, ldc);                                                  \
    }
BLOCK_RUN(maddubs_1, false, 1)
BLOCK_RUN(maddubs_2, false, 2)
BLOCK_RUN(widen_1, true, 1)
BLOCK_RUN(widen_2, true, 2)

TARGET flotilla_q8_status flotilla_q8_gemm_nhwc__avx2(size_t M, size_t N, size_t K, const void *packed, const void *A,
                                                      size_t lda, const flotilla_q8_requant *rq, void *C, size_t ldc,
                                                      void *workspace) {
    (void)workspace;
    const flotilla_q8_packed_header *h =
        flotilla_q8_packed_check(packed, M, K, FLOTILLA_Q8_LAYOUT_AVX2_WIDEN, FLOTILLA_Q8_LAYOUT_AVX2_MADDUBS);
    if (h == NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    if (N == 0 || M == 0 || K == 0) return FLOTILLA_Q8_OK;
    const bool widen = h->layout == FLOTILLA_Q8_LAYOUT_AVX2_WIDEN;
    const size_t k4 = h->k_padded / 4;
    const __m256i flip = _mm256_set1_epi8(h->x_type == FLOTILLA_Q8_S8 ? (char)0x80 : 0);
    const int32_t *acc_init = flotilla_q8_packed_acc_init(packed);
    const int8_t *w = flotilla_q8_packed_weights(packed);
    block b;
    for (size_t m0 = 0; m0 < M; m0 += CB) {
        block_setup(M, m0, k4, widen, w, acc_init, rq, &b);
        const uint8_t *a = (const uint8_t *)A;
        uint8_t *c = (uint8_t *)C + m0;
        const bool two = b.live > 8;
        if (widen) {
            (two ? widen_2 : widen_1)(N, K, a, lda, &b, flip, rq, c, ldc);
        } else {
            (two ? maddubs_2 : maddubs_1)(N, K, a, lda, &b, flip, rq, c, ldc);
        }
    }
    return FLOTILLA_Q8_OK;
}

#endif
