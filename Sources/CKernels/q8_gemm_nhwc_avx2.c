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
// A tile is up to 4 pixels × 16 channels (7-bit), 2 × 16 or 4 × 8 (widening: 8 pair-sum
// accumulators); blocks of 16 channels are the outer loop, so the per-lane requant constants
// are computed once per block and its weights stay in L1 over all N. The epilogue packs two
// pixels (four with 8 channels) per byte vector and interleaves the two 128-bit halves back
// into channel order with one unpack. u8 and s8 activations are separate instantiations (no
// XOR for u8).
// The last K mod 4 bytes of each row are copied byte by byte: nothing past A + (N−1)·lda + K is
// ever read.
#include "q8_internal.h"
#include "q8_x86_requant.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma")))

enum { MR = 4, CB = 16, NC_MAX = 2, R_MAX = 4 };
enum { MODE_FOLD = 0, MODE_HI = 1, MODE_64 = 2 };  // as in q8_gemm_nhwc_avx512vnni.c

size_t flotilla_q8_gemm_nhwc_workspace_size__avx2(size_t N, size_t K) {
    (void)N, (void)K;
    return 0;
}

// The widening layout's lanes after VPHADDD of the two panels' pair sums: channels
// (0, 1, 4, 5 | 2, 3, 6, 7) of the chunk. Its requant constants are kept in that order.
static const int hadd_order[8] = {0, 1, 4, 5, 2, 3, 6, 7};

typedef struct block {
    __m256i init[NC_MAX];                             // 7-bit: acc start, channel order
    __m256i init_e[NC_MAX], init_o[NC_MAX];           // widening: pair-sum starts (see block_setup)
    __m256i mult[NC_MAX], m_odd[NC_MAX], rnd[NC_MAX], cnt[NC_MAX];  // in the kernel's lane order
    __m256i mult_c[NC_MAX], n_c[NC_MAX];              // channel order, the 64-bit form
    __m256i zp16, lo8, hi8;
    const int8_t *w0[NC_MAX], *w1[NC_MAX];  // the chunk's two panels (w1 = w0 past the last panel)
    size_t live;
    int mode;
    bool clamp, u8;
} block;

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
        // Lane l of the kernel's order holds channel 8c + ord[l].
        int32_t lm[8], lr[8], lc[8], ie[8] = {0}, io[8] = {0};
        for (size_t l = 0; l < 8; l++) {
            const size_t ch = 8 * c + (widen ? (size_t)hadd_order[l] : l);
            lm[l] = mult[ch], lr[l] = rnd[ch], lc[l] = cnt[ch];
        }
        // Pair sums of panel w0 in lanes (2r, 2r + 1) for row r, w1 likewise: the start values
        // put row r's init in lane 2r, so VPHADDD adds it exactly once.
        for (size_t r = 0; r < 4; r++) ie[2 * r] = init[8 * c + r], io[2 * r] = init[8 * c + 4 + r];
#define LD8(v) _mm256_loadu_si256((const __m256i *)(const void *)(v))
        b->init[c] = LD8(init + 8 * c), b->init_e[c] = LD8(ie), b->init_o[c] = LD8(io);
        b->mult[c] = LD8(lm), b->rnd[c] = LD8(lr), b->cnt[c] = LD8(lc);
        b->mult_c[c] = LD8(mult + 8 * c), b->n_c[c] = LD8(n + 8 * c);
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

// A pixel's quad: 4 bytes, or the K mod 4 bytes of the last group copied one by one.
static inline __attribute__((always_inline)) TARGET __m256i quad(const bool s8, const uint8_t *p, size_t bytes) {
    int32_t q = 0;
    if (bytes == 4) {
        memcpy(&q, p, 4);
    } else {
        uint8_t t[4] = {0, 0, 0, 0};
        for (size_t i = 0; i < bytes; i++) t[i] = p[i];
        memcpy(&q, t, 4);
    }
    const __m256i x = _mm256_set1_epi32(q);
    return s8 ? _mm256_xor_si256(x, _mm256_set1_epi8((char)0x80)) : x;
}

// The 64-bit per-lane form (some lane's shift < 2: rare), accumulators in channel order.
static __attribute__((noinline, cold)) TARGET void store_64(const int32_t *acc, size_t R, size_t NC, const block *b,
                                                            const flotilla_q8_requant *rq, uint8_t *c, size_t ldc) {
    for (size_t r = 0; r < R; r++) {
        uint8_t out[CB];
        for (size_t j = 0; j < NC; j++) {
            const __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(acc + r * CB + 8 * j));
            _mm_storel_epi64((__m128i *)(void *)(out + 8 * j),
                             flotilla_q8_requant8_lanes_avx2(x, b->mult_c[j], b->n_c[j], rq->zero_point, rq->qmin,
                                                             rq->qmax));
        }
        memcpy(c + r * ldc, out, b->live);
    }
}

static inline __attribute__((always_inline)) TARGET void store_pixel(const size_t NC, bool full, size_t live,
                                                                     __m128i bytes, uint8_t *c) {
    if (full && NC == 2) {
        _mm_storeu_si128((__m128i *)(void *)c, bytes);
    } else if (full) {
        _mm_storel_epi64((__m128i *)(void *)c, bytes);
    } else {
        uint8_t t[16];
        _mm_storeu_si128((__m128i *)(void *)t, bytes);
        memcpy(c, t, live);
    }
}

// int16 lanes → bytes with the type's saturation, then the fused activation's clamp.
static inline __attribute__((always_inline)) TARGET __m256i pack_bytes(const block *b, __m256i v0, __m256i v1) {
    __m256i y = b->u8 ? _mm256_packus_epi16(v0, v1) : _mm256_packs_epi16(v0, v1);
    if (b->clamp) {
        y = b->u8 ? _mm256_min_epu8(_mm256_max_epu8(y, b->lo8), b->hi8)
                  : _mm256_min_epi8(_mm256_max_epi8(y, b->lo8), b->hi8);
    }
    return y;
}

// R pixels' accumulators (lane order: channels, or hadd_order for widen) → bytes, two pixels
// per byte vector. After VPACKSSDW of a pixel's two chunks and VPACKUSWB/VPACKSSWB of two
// pixels, 128-bit half L holds, per dword, (pixel, chunk)'s lanes 4L … 4L + 3 — channels
// 4L … 4L + 3 in channel order, or (2L, 2L + 1, 4 + 2L, 5 + 2L) in hadd order; interleaving
// the halves' dwords (channel order) or words (hadd order) gives each pixel's 16 bytes in order.
// Saturation in the packs cannot change a clamped result (see q8_gemm_nhwc_avx512vnni.c).
static inline __attribute__((always_inline)) TARGET void tile_epilogue(const bool widen, const size_t NC,
                                                                       const size_t R, __m256i acc[][NC_MAX],
                                                                       const block *b, const flotilla_q8_requant *rq,
                                                                       uint8_t *c, size_t ldc) {
    if (b->mode == MODE_64) {
        int32_t buf[R_MAX * CB];
        const __m256i to_channels = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);  // hadd_order is its own inverse
#pragma GCC unroll 4
        for (size_t r = 0; r < R; r++) {
#pragma GCC unroll 2
            for (size_t j = 0; j < NC; j++) {
                const __m256i v = widen ? _mm256_permutevar8x32_epi32(acc[r][j], to_channels) : acc[r][j];
                _mm256_storeu_si256((__m256i *)(void *)(buf + r * CB + 8 * j), v);
            }
        }
        store_64(buf, R, NC, b, rq, c, ldc);
        return;
    }
    const bool fold = b->mode == MODE_FOLD, full = b->live == 8 * NC;
    if (NC == 2) {  // two pixels per byte vector: lo = pixel r's 16 bytes, hi = pixel r + 1's
#pragma GCC unroll 2
        for (size_t r = 0; r < R; r += 2) {
            __m256i v[2];
#pragma GCC unroll 2
            for (size_t i = 0; i < 2; i++) {
                if (r + i >= R) {
                    v[i] = v[0];
                    continue;
                }
                const __m256i q0 =
                    flotilla_q8_requant8_hi_lanes_avx2(acc[r + i][0], b->mult[0], b->m_odd[0], b->rnd[0], b->cnt[0]);
                const __m256i q1 =
                    flotilla_q8_requant8_hi_lanes_avx2(acc[r + i][1], b->mult[1], b->m_odd[1], b->rnd[1], b->cnt[1]);
                v[i] = _mm256_packs_epi32(q0, q1);
                if (!fold) v[i] = _mm256_adds_epi16(v[i], b->zp16);
            }
            const __m256i y = pack_bytes(b, v[0], v[1]);
            const __m128i x0 = _mm256_castsi256_si128(y), x1 = _mm256_extracti128_si256(y, 1);
            store_pixel(NC, full, b->live, widen ? _mm_unpacklo_epi16(x0, x1) : _mm_unpacklo_epi32(x0, x1), c + r * ldc);
            if (r + 1 < R) {
                store_pixel(NC, full, b->live, widen ? _mm_unpackhi_epi16(x0, x1) : _mm_unpackhi_epi32(x0, x1),
                            c + (r + 1) * ldc);
            }
        }
        return;
    }
    // One chunk: four pixels per byte vector (each VPACKSSDW joins two pixels); lo = pixels r,
    // r + 1 (8 bytes each), hi = pixels r + 2, r + 3.
#pragma GCC unroll 1
    for (size_t r = 0; r < R; r += 4) {
        __m256i q[4];
#pragma GCC unroll 4
        for (size_t i = 0; i < 4; i++) {
            q[i] = r + i < R ? flotilla_q8_requant8_hi_lanes_avx2(acc[r + i][0], b->mult[0], b->m_odd[0], b->rnd[0], b->cnt[0])
                             : q[0];  // past the tile: never stored
        }
        __m256i v0 = _mm256_packs_epi32(q[0], q[1]), v1 = _mm256_packs_epi32(q[2], q[3]);
        if (!fold) v0 = _mm256_adds_epi16(v0, b->zp16), v1 = _mm256_adds_epi16(v1, b->zp16);
        const __m256i y = pack_bytes(b, v0, v1);
        const __m128i x0 = _mm256_castsi256_si128(y), x1 = _mm256_extracti128_si256(y, 1);
        const __m128i lo = widen ? _mm_unpacklo_epi16(x0, x1) : _mm_unpacklo_epi32(x0, x1);
        const __m128i hi = widen ? _mm_unpackhi_epi16(x0, x1) : _mm_unpackhi_epi32(x0, x1);
        store_pixel(NC, full, b->live, lo, c + r * ldc);
        if (r + 1 < R) store_pixel(NC, full, b->live, _mm_unpackhi_epi64(lo, lo), c + (r + 1) * ldc);
        if (r + 2 < R) store_pixel(NC, full, b->live, hi, c + (r + 2) * ldc);
        if (r + 3 < R) store_pixel(NC, full, b->live, _mm_unpackhi_epi64(hi, hi), c + (r + 3) * ldc);
    }
}

// 7-bit layout: rows g of the chunk's two panels as one ymm (channels 0–3, 4–7).
static inline __attribute__((always_inline)) TARGET __m256i panel_pair(const int8_t *w0, const int8_t *w1, size_t g) {
    return _mm256_loadu2_m128i((const __m128i *)(const void *)(w1 + g * 4 * MR),
                               (const __m128i *)(const void *)(w0 + g * 4 * MR));
}

// Quad group g of R pixels: bytes = 4, or K mod 4 for the last group (a constant in the loop).
static inline __attribute__((always_inline)) TARGET void step_maddubs(const bool s8, const size_t NC, const size_t R,
                                                                      size_t g, const size_t bytes, const uint8_t *a,
                                                                      size_t lda, const block *b,
                                                                      __m256i acc[][NC_MAX]) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i w[NC_MAX];
#pragma GCC unroll 2
    for (size_t j = 0; j < NC; j++) w[j] = panel_pair(b->w0[j], b->w1[j], g);
#pragma GCC unroll 4
    for (size_t r = 0; r < R; r++) {
        const __m256i x = quad(s8, a + r * lda + 4 * g, bytes);
#pragma GCC unroll 2
        for (size_t j = 0; j < NC; j++) {
            acc[r][j] = _mm256_add_epi32(acc[r][j], _mm256_madd_epi16(_mm256_maddubs_epi16(x, w[j]), ones));
        }
    }
}

static inline __attribute__((always_inline)) TARGET void step_widen(const bool s8, const size_t NC, const size_t R,
                                                                    size_t g, const size_t bytes, const uint8_t *a,
                                                                    size_t lda, const block *b, __m256i e[][NC_MAX],
                                                                    __m256i o[][NC_MAX]) {
    const __m256i spread = _mm256_setr_epi8(0, -1, 2, -1, 1, -1, 3, -1, 0, -1, 2, -1, 1, -1, 3, -1,
                                            0, -1, 2, -1, 1, -1, 3, -1, 0, -1, 2, -1, 1, -1, 3, -1);
#pragma GCC unroll 4
    for (size_t r = 0; r < R; r++) {
        const __m256i xs = _mm256_shuffle_epi8(quad(s8, a + r * lda + 4 * g, bytes), spread);
#pragma GCC unroll 2
        for (size_t j = 0; j < NC; j++) {
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)(b->w0[j] + g * 32));
            const __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(b->w1[j] + g * 32));
            e[r][j] = _mm256_add_epi32(e[r][j], _mm256_madd_epi16(xs, w0));
            o[r][j] = _mm256_add_epi32(o[r][j], _mm256_madd_epi16(xs, w1));
        }
    }
}

static inline __attribute__((always_inline)) TARGET void tile_maddubs(const bool s8, const size_t NC, const size_t R,
                                                                      size_t K, const uint8_t *a, size_t lda,
                                                                      const block *b, const flotilla_q8_requant *rq,
                                                                      uint8_t *c, size_t ldc) {
    __m256i acc[R_MAX][NC_MAX];
#pragma GCC unroll 4
    for (size_t r = 0; r < R; r++) {
#pragma GCC unroll 2
        for (size_t j = 0; j < NC; j++) acc[r][j] = b->init[j];
    }
    for (size_t g = 0; g < K / 4; g++) step_maddubs(s8, NC, R, g, 4, a, lda, b, acc);
    if (K % 4 != 0) step_maddubs(s8, NC, R, K / 4, K % 4, a, lda, b, acc);
    tile_epilogue(false, NC, R, acc, b, rq, c, ldc);
}

static inline __attribute__((always_inline)) TARGET void tile_widen(const bool s8, const size_t NC, const size_t R,
                                                                    size_t K, const uint8_t *a, size_t lda,
                                                                    const block *b, const flotilla_q8_requant *rq,
                                                                    uint8_t *c, size_t ldc) {
    __m256i e[R_MAX][NC_MAX], o[R_MAX][NC_MAX];  // panel w0's and w1's pair sums
#pragma GCC unroll 4
    for (size_t r = 0; r < R; r++) {
#pragma GCC unroll 2
        for (size_t j = 0; j < NC; j++) e[r][j] = b->init_e[j], o[r][j] = b->init_o[j];
    }
    for (size_t g = 0; g < K / 4; g++) step_widen(s8, NC, R, g, 4, a, lda, b, e, o);
    if (K % 4 != 0) step_widen(s8, NC, R, K / 4, K % 4, a, lda, b, e, o);
    __m256i acc[R_MAX][NC_MAX];
#pragma GCC unroll 4
    for (size_t r = 0; r < R; r++) {
#pragma GCC unroll 2
        for (size_t j = 0; j < NC; j++) acc[r][j] = _mm256_hadd_epi32(e[r][j], o[r][j]);  // hadd_order
    }
    tile_epilogue(true, NC, R, acc, b, rq, c, ldc);
}

static inline __attribute__((always_inline)) TARGET void block_run(const bool widen, const bool s8, const size_t NC,
                                                                   size_t N, size_t K, const uint8_t *a, size_t lda,
                                                                   const block *b, const flotilla_q8_requant *rq,
                                                                   uint8_t *c, size_t ldc) {
    size_t n = 0;
    if (widen) {
        // 4 pixels × 8 channels or 2 × 16: 8 pair-sum accumulators either way.
        const size_t R = NC == 1 ? 4 : 2;
        for (; n + R <= N; n += R) tile_widen(s8, NC, R, K, a + n * lda, lda, b, rq, c + n * ldc, ldc);
        a += n * lda, c += n * ldc;
        switch (N - n) {
        case 1: tile_widen(s8, NC, 1, K, a, lda, b, rq, c, ldc); break;
        case 2: tile_widen(s8, NC, 2, K, a, lda, b, rq, c, ldc); break;
        case 3: tile_widen(s8, NC, 3, K, a, lda, b, rq, c, ldc); break;
        default: break;
        }
        return;
    }
    for (; n + R_MAX <= N; n += R_MAX) tile_maddubs(s8, NC, R_MAX, K, a + n * lda, lda, b, rq, c + n * ldc, ldc);
    a += n * lda, c += n * ldc;
    switch (N - n) {
    case 1: tile_maddubs(s8, NC, 1, K, a, lda, b, rq, c, ldc); break;
    case 2: tile_maddubs(s8, NC, 2, K, a, lda, b, rq, c, ldc); break;
    case 3: tile_maddubs(s8, NC, 3, K, a, lda, b, rq, c, ldc); break;
    default: break;
    }
}

typedef void (*block_fn)(size_t N, size_t K, const uint8_t *a, size_t lda, const block *b,
                         const flotilla_q8_requant *rq, uint8_t *c, size_t ldc);
#define BLOCK_RUN(name, widen, s8, nc)                                                                           \
    static __attribute__((noinline)) TARGET void name(size_t N, size_t K, const uint8_t *a, size_t lda,          \
                                                      const block *b, const flotilla_q8_requant *rq, uint8_t *c, \
                                                      size_t ldc) {                                              \
        block_run(widen, s8, nc, N, K, a, lda, b, rq, c, ldc);                                                   \
    }
BLOCK_RUN(maddubs_u8_1, false, false, 1)
BLOCK_RUN(maddubs_u8_2, false, false, 2)
BLOCK_RUN(maddubs_s8_1, false, true, 1)
BLOCK_RUN(maddubs_s8_2, false, true, 2)
BLOCK_RUN(widen_u8_1, true, false, 1)
BLOCK_RUN(widen_u8_2, true, false, 2)
BLOCK_RUN(widen_s8_1, true, true, 1)
BLOCK_RUN(widen_s8_2, true, true, 2)

TARGET flotilla_q8_status flotilla_q8_gemm_nhwc__avx2(size_t M, size_t N, size_t K, const void *packed, const void *A,
                                                      size_t lda, const flotilla_q8_requant *rq, void *C, size_t ldc,
                                                      void *workspace) {
    (void)workspace;
    const flotilla_q8_packed_header *h =
        flotilla_q8_packed_check(packed, M, K, FLOTILLA_Q8_LAYOUT_AVX2_WIDEN, FLOTILLA_Q8_LAYOUT_AVX2_MADDUBS);
    if (h == NULL) return FLOTILLA_Q8_PACK_MISMATCH;
    if (N == 0 || M == 0 || K == 0) return FLOTILLA_Q8_OK;
    const bool widen = h->layout == FLOTILLA_Q8_LAYOUT_AVX2_WIDEN, s8 = h->x_type == FLOTILLA_Q8_S8;
    // [layout][activation type][chunks − 1]
    static const block_fn fns[2][2][2] = {{{maddubs_u8_1, maddubs_u8_2}, {maddubs_s8_1, maddubs_s8_2}},
                                          {{widen_u8_1, widen_u8_2}, {widen_s8_1, widen_s8_2}}};
    const size_t k4 = h->k_padded / 4;
    const int32_t *acc_init = flotilla_q8_packed_acc_init(packed);
    const int8_t *w = flotilla_q8_packed_weights(packed);
    block b;
    for (size_t m0 = 0; m0 < M; m0 += CB) {
        block_setup(M, m0, k4, widen, w, acc_init, rq, &b);
        fns[widen][s8][b.live > 8](N, K, (const uint8_t *)A, lda, &b, rq, (uint8_t *)C + m0, ldc);
    }
    return FLOTILLA_Q8_OK;
}

#endif
