// Packing shared by the int8 GEMM paths: contract checks, the header, the acc_init column-sum
// term, weight quads and the per-call activation repack into 4-k quads.
#include <string.h>

#include "q8_internal.h"

#if defined(__x86_64__)
#include <emmintrin.h>
#elif defined(__aarch64__)
#include <arm_neon.h>
#endif

size_t flotilla_q8_write_header(void *packed, const flotilla_q8_gemm_pack_params *p, uint32_t layout,
                                size_t mr, size_t k_group) {
    flotilla_q8_packed_header h;
    memset(&h, 0, sizeof h);
    h.magic = FLOTILLA_Q8_PACK_MAGIC;
    h.layout = layout;
    h.M = (uint32_t)p->M;
    h.K = (uint32_t)p->K;
    h.x_type = (uint32_t)p->x_type;
    h.x_zero_point = p->x_zero_point;
    h.mr = (uint32_t)mr;
    h.k_padded = (uint32_t)flotilla_q8_round_up(p->K, k_group);
    const size_t offset = sizeof h + flotilla_q8_round_up(flotilla_q8_round_up(p->M, mr) * sizeof(int32_t), 64);
    h.weights_offset = (uint32_t)offset;
    memcpy(packed, &h, sizeof h);
    return offset;
}

flotilla_q8_status flotilla_q8_pack_check(const flotilla_q8_gemm_pack_params *p, const int8_t *W,
                                          size_t ldw, const int32_t *bias) {
    if (p->M == 0 || p->K == 0) return FLOTILLA_Q8_EMPTY;
    if (p->K > FLOTILLA_Q8_MAX_K) return FLOTILLA_Q8_K_TOO_LARGE;
    // M is stored in a 32-bit header field; a layer with 2³¹ output channels is not a model.
    if (p->M > (size_t)INT32_MAX) return FLOTILLA_Q8_EMPTY;
    if (p->x_type != FLOTILLA_Q8_U8 && p->x_type != FLOTILLA_Q8_S8) return FLOTILLA_Q8_BAD_ZERO_POINT;
    if (p->x_zero_point < flotilla_q8_type_min(p->x_type) || p->x_zero_point > flotilla_q8_type_max(p->x_type))
        return FLOTILLA_Q8_BAD_ZERO_POINT;
    const int32_t wmax = p->seven_bit ? 63 : 127;
    for (size_t m = 0; m < p->M; m++) {
        for (size_t k = 0; k < p->K; k++) {
            const int32_t w = W[m * ldw + k];
            if (w < -wmax || w > wmax) return FLOTILLA_Q8_WEIGHT_OUT_OF_RANGE;
        }
        if (bias != NULL && (bias[m] > FLOTILLA_Q8_MAX_ABS_BIAS || bias[m] < -FLOTILLA_Q8_MAX_ABS_BIAS))
            return FLOTILLA_Q8_BIAS_OUT_OF_RANGE;
    }
    return FLOTILLA_Q8_OK;
}

void flotilla_q8_pack_acc_init(const flotilla_q8_gemm_pack_params *p, const int8_t *W, size_t ldw,
                               const int32_t *bias, int32_t z_eff, size_t m_padded, int32_t *acc_init) {
    for (size_t m = 0; m < m_padded; m++) {
        if (m >= p->M) {
            acc_init[m] = 0;
            continue;
        }
        int64_t sum = 0;
        for (size_t k = 0; k < p->K; k++) sum += W[m * ldw + k];
        // Exact in int64; the kernel adds Σ x'·w with int32 wrap-around, and the true total
        // bias + Σ (x − z)·w fits int32 by the contract, so the wrapped result is exact.
        const int64_t init = (bias != NULL ? bias[m] : 0) - (int64_t)z_eff * sum;
        acc_init[m] = (int32_t)(uint32_t)(uint64_t)init;
    }
}

void flotilla_q8_pack_quads(size_t M, size_t K, const int8_t *W, size_t ldw, size_t mr, int8_t *out) {
    const size_t k4 = flotilla_q8_round_up(K, 4) / 4;
    const size_t panels = flotilla_q8_round_up(M, mr) / mr;
    for (size_t p = 0; p < panels; p++) {
        for (size_t g = 0; g < k4; g++) {
            for (size_t r = 0; r < mr; r++) {
                for (size_t j = 0; j < 4; j++) {
                    const size_t m = p * mr + r, k = g * 4 + j;
                    *out++ = (m < M && k < K) ? W[m * ldw + k] : 0;
                }
            }
        }
    }
}

size_t flotilla_q8_pack_b_quads_size(size_t N, size_t K, size_t nr) {
    return flotilla_q8_round_up(N, nr) * flotilla_q8_round_up(K, 4);
}

// Scalar quad of column n: bytes B[k..k+3][n] (zero past K or N), XOR flip.
static inline void quad_scalar(size_t N, size_t K, const uint8_t *B, size_t ldb, size_t k, size_t n,
                               uint8_t flip, uint8_t *dst) {
    for (size_t j = 0; j < 4; j++) {
        dst[j] = (k + j < K && n < N) ? (uint8_t)(B[(k + j) * ldb + n] ^ flip) : 0;
    }
}

void flotilla_q8_pack_b_quads(size_t N, size_t K, const uint8_t *B, size_t ldb, size_t nr,
                              uint8_t flip, uint8_t *out) {
    const size_t k4 = flotilla_q8_round_up(K, 4) / 4;
    for (size_t n0 = 0; n0 < N; n0 += nr) {
        for (size_t g = 0; g < k4; g++) {
            const size_t k = g * 4;
            size_t c = 0;
#if defined(__x86_64__)
            // 16 columns × 4 rows → 64 interleaved bytes: two rounds of byte/word unpacking. Rows
            // past K (the last group of an odd K, e.g. the 27 rows of a 3×3×3 stem) are zero
            // vectors, not a byte-by-byte scalar quad per column.
            {
                const __m128i f = _mm_set1_epi8((char)flip), z = _mm_setzero_si128();
                const size_t live_rows = K - k < 4 ? K - k : 4;
                for (; c + 16 <= nr && n0 + c + 16 <= N; c += 16) {
                    const uint8_t *s = B + k * ldb + n0 + c;
                    const __m128i r0 = _mm_xor_si128(_mm_loadu_si128((const __m128i *)s), f);
                    const __m128i r1 = live_rows > 1 ? _mm_xor_si128(_mm_loadu_si128((const __m128i *)(s + ldb)), f) : z;
                    const __m128i r2 = live_rows > 2 ? _mm_xor_si128(_mm_loadu_si128((const __m128i *)(s + 2 * ldb)), f) : z;
                    const __m128i r3 = live_rows > 3 ? _mm_xor_si128(_mm_loadu_si128((const __m128i *)(s + 3 * ldb)), f) : z;
                    const __m128i t0 = _mm_unpacklo_epi8(r0, r1), t1 = _mm_unpackhi_epi8(r0, r1);
                    const __m128i t2 = _mm_unpacklo_epi8(r2, r3), t3 = _mm_unpackhi_epi8(r2, r3);
                    __m128i *d = (__m128i *)(out + c * 4);
                    _mm_storeu_si128(d + 0, _mm_unpacklo_epi16(t0, t2));
                    _mm_storeu_si128(d + 1, _mm_unpackhi_epi16(t0, t2));
                    _mm_storeu_si128(d + 2, _mm_unpacklo_epi16(t1, t3));
                    _mm_storeu_si128(d + 3, _mm_unpackhi_epi16(t1, t3));
                }
                // Fewer than 16 live columns left (the N = 9 and N mod 32 tails of small planes):
                // the same unpacking over 16-byte row loads with the bytes past the live columns
                // masked to zero, instead of a bounds-tested scalar quad per column. A row read
                // that would pass the last byte of B goes through a zeroed copy.
                const uint8_t *end = B + (K - 1) * ldb + N;
                const __m128i iota = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
                const size_t live_cols = n0 + nr <= N ? nr : N - n0;
                for (; c < live_cols; c += 16) {
                    const size_t cols = live_cols - c < 16 ? live_cols - c : 16;
                    const __m128i keep = _mm_cmpgt_epi8(_mm_set1_epi8((char)cols), iota);
                    __m128i r[4];
                    for (size_t j = 0; j < 4; j++) {
                        r[j] = z;
                        if (j >= live_rows) continue;
                        const uint8_t *src = B + (k + j) * ldb + n0 + c;
                        __m128i v;
                        if ((size_t)(end - src) >= 16) {
                            v = _mm_loadu_si128((const __m128i *)(const void *)src);
                        } else {
                            uint8_t tmp[16] = {0};
                            for (size_t i = 0; i < cols; i++) tmp[i] = src[i];
                            v = _mm_loadu_si128((const __m128i *)(const void *)tmp);
                        }
                        r[j] = _mm_and_si128(_mm_xor_si128(v, f), keep);
                    }
                    const __m128i t0 = _mm_unpacklo_epi8(r[0], r[1]), t1 = _mm_unpackhi_epi8(r[0], r[1]);
                    const __m128i t2 = _mm_unpacklo_epi8(r[2], r[3]), t3 = _mm_unpackhi_epi8(r[2], r[3]);
                    const __m128i q[4] = {_mm_unpacklo_epi16(t0, t2), _mm_unpackhi_epi16(t0, t2),
                                          _mm_unpacklo_epi16(t1, t3), _mm_unpackhi_epi16(t1, t3)};
                    // Quads of columns [c, min(c + 16, nr)): live ones, then zero padding.
                    for (size_t i = 0; i < 4 && c + 4 * i < nr; i++) {
                        uint8_t *dst = out + (c + 4 * i) * 4;
                        if (c + 4 * i + 4 <= nr) {
                            _mm_storeu_si128((__m128i *)(void *)dst, q[i]);
                        } else {
                            uint8_t tmp[16];
                            _mm_storeu_si128((__m128i *)(void *)tmp, q[i]);
                            memcpy(dst, tmp, (nr - c - 4 * i) * 4);
                        }
                    }
                }
                if (c > nr) c = nr;
            }
#elif defined(__aarch64__)
            {
                const uint8x16_t f = vdupq_n_u8(flip), z = vdupq_n_u8(0);
                const size_t live_rows = K - k < 4 ? K - k : 4;
                for (; c + 16 <= nr && n0 + c + 16 <= N; c += 16) {
                    const uint8_t *s = B + k * ldb + n0 + c;
                    uint8x16x4_t v;
                    v.val[0] = veorq_u8(vld1q_u8(s), f);
                    v.val[1] = live_rows > 1 ? veorq_u8(vld1q_u8(s + ldb), f) : z;
                    v.val[2] = live_rows > 2 ? veorq_u8(vld1q_u8(s + 2 * ldb), f) : z;
                    v.val[3] = live_rows > 3 ? veorq_u8(vld1q_u8(s + 3 * ldb), f) : z;
                    vst4q_u8(out + c * 4, v);  // interleaves the 4 rows byte by byte
                }
            }
#endif
            // Columns past N are zero padding: one memset instead of a bounds test per byte
            // (a batch-1 layer with a 4×4 output fills half of every 32-column panel so).
            const size_t live = n0 + nr <= N ? nr : N - n0;
            for (; c < live; c++) quad_scalar(N, K, B, ldb, k, n0 + c, flip, out + c * 4);
            if (c < nr) memset(out + c * 4, 0, (nr - c) * 4);
            out += nr * 4;
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

// flotilla_q8_pack_b_quads with nr = 32 on AVX-512BW: two panels (64 columns) × one 4-row group
// per step. One 64-byte load per row; a dword permute per row (the 4×4 transpose of its 16-byte
// column blocks) sets the rows up so that the in-lane byte and word unpacks (the SSE sequence,
// four lanes at once) leave 16 consecutive columns' quads in each result: 20 vector ops per 256
// bytes against 56 for the 16-column SSE loop. The last N mod 64 columns take the same steps with
// masked loads (no read past B; columns past N zero, as the generic loop writes them).
static inline __attribute__((always_inline, target("avx2,avx512f,avx512bw,avx512vl"))) void quads64_row_group(
    const uint8_t *s, size_t ldb, size_t live, __mmask64 cols, __m512i f, __m512i q[4]) {
    const __m512i idx = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    __m512i r[4];
    for (size_t j = 0; j < 4; j++) {
        r[j] = _mm512_setzero_si512();
        if (j >= live) continue;
        const __m512i v = cols == ~(__mmask64)0 ? _mm512_loadu_si512((const void *)(s + j * ldb))
                                                : _mm512_maskz_loadu_epi8(cols, s + j * ldb);
        r[j] = _mm512_permutexvar_epi32(idx, _mm512_maskz_mov_epi8(cols, _mm512_xor_si512(v, f)));
    }
    const __m512i t0 = _mm512_unpacklo_epi8(r[0], r[1]), t1 = _mm512_unpackhi_epi8(r[0], r[1]);
    const __m512i t2 = _mm512_unpacklo_epi8(r[2], r[3]), t3 = _mm512_unpackhi_epi8(r[2], r[3]);
    q[0] = _mm512_unpacklo_epi16(t0, t2), q[1] = _mm512_unpackhi_epi16(t0, t2);
    q[2] = _mm512_unpacklo_epi16(t1, t3), q[3] = _mm512_unpackhi_epi16(t1, t3);
}

__attribute__((target("avx2,avx512f,avx512bw,avx512vl"))) void flotilla_q8_pack_b_quads_32__avx512(
    size_t N, size_t K, const uint8_t *B, size_t ldb, uint8_t flip, uint8_t *out) {
    enum { NR = 32 };
    const size_t k4 = flotilla_q8_round_up(K, 4) / 4;
    const __m512i f = _mm512_set1_epi8((char)flip);
    for (size_t n0 = 0; n0 < N; n0 += 2 * NR) {
        const size_t rem = N - n0;
        const __mmask64 cols = rem >= 2 * NR ? ~(__mmask64)0 : (((__mmask64)1 << rem) - 1u);
        uint8_t *p0 = out + (n0 / NR) * k4 * 4 * NR, *p1 = p0 + k4 * 4 * NR;
        for (size_t g = 0; g < k4; g++) {
            const size_t k = 4 * g, live = K - k < 4 ? K - k : 4;
            __m512i q[4];
            quads64_row_group(B + k * ldb + n0, ldb, live, cols, f, q);
            _mm512_storeu_si512((void *)(p0 + g * 4 * NR), q[0]);
            _mm512_storeu_si512((void *)(p0 + g * 4 * NR + 64), q[1]);
            // The second panel exists only when a column of it does.
            if (rem > NR) {
                _mm512_storeu_si512((void *)(p1 + g * 4 * NR), q[2]);
                _mm512_storeu_si512((void *)(p1 + g * 4 * NR + 64), q[3]);
            }
        }
    }
}

// A tail of N ≤ 16 columns at width tw = round_up(N, 4) ([k/4][tw][4]): 16-byte masked row loads
// (nothing read past B), the SSE unpacks, tw/4 16-byte stores per row group.
__attribute__((target("avx2,avx512f,avx512bw,avx512vl"))) void flotilla_q8_pack_b_quads_tail__avx512(
    size_t N, size_t K, const uint8_t *B, size_t ldb, uint8_t flip, uint8_t *out) {
    if (N == 0 || N > 16) return;
    const size_t k4 = flotilla_q8_round_up(K, 4) / 4, tw = flotilla_q8_round_up(N, 4);
    const __mmask16 cols = (__mmask16)((1u << N) - 1u);
    const __m128i f = _mm_set1_epi8((char)flip);
    for (size_t g = 0; g < k4; g++) {
        const size_t k = 4 * g, live = K - k < 4 ? K - k : 4;
        __m128i r[4];
        for (size_t j = 0; j < 4; j++) {
            r[j] = j < live ? _mm_maskz_mov_epi8(cols, _mm_xor_si128(_mm_maskz_loadu_epi8(cols, B + (k + j) * ldb), f))
                            : _mm_setzero_si128();
        }
        const __m128i t0 = _mm_unpacklo_epi8(r[0], r[1]), t1 = _mm_unpackhi_epi8(r[0], r[1]);
        const __m128i t2 = _mm_unpacklo_epi8(r[2], r[3]), t3 = _mm_unpackhi_epi8(r[2], r[3]);
        uint8_t *d = out + g * 4 * tw;
        _mm_storeu_si128((__m128i *)(void *)d, _mm_unpacklo_epi16(t0, t2));
        if (tw > 4) _mm_storeu_si128((__m128i *)(void *)(d + 16), _mm_unpackhi_epi16(t0, t2));
        if (tw > 8) _mm_storeu_si128((__m128i *)(void *)(d + 32), _mm_unpacklo_epi16(t1, t3));
        if (tw > 12) _mm_storeu_si128((__m128i *)(void *)(d + 48), _mm_unpackhi_epi16(t1, t3));
    }
}

// flotilla_q8_pack_b_quads with nr = 16 on AVX2: two panels (32 columns) × one 4-row group per
// step, the ymm form of the AVX-512 routine above. One 32-byte load per row; a dword permute
// (0, 2, 4, 6 | 1, 3, 5, 7) puts columns 0–3, 8–11, 16–19, 24–27 in lane 0 so the in-lane byte
// and word unpacks leave columns 0–7, 8–15, 16–23, 24–31 in the four results: 24 vector ops per
// 128 bytes against 40 for two rounds of the 16-column SSE loop. The last N mod 32 columns go
// through the generic loop (its panels continue the same layout).
__attribute__((target("avx2"))) void flotilla_q8_pack_b_quads_16__avx2(size_t N, size_t K, const uint8_t *B,
                                                                        size_t ldb, uint8_t flip, uint8_t *out) {
    enum { NR = 16 };
    const size_t k4 = flotilla_q8_round_up(K, 4) / 4;
    const __m256i f = _mm256_set1_epi8((char)flip), z = _mm256_setzero_si256();
    const __m256i idx = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    size_t n0 = 0;
    for (; n0 + 2 * NR <= N; n0 += 2 * NR) {
        uint8_t *p0 = out + (n0 / NR) * k4 * 4 * NR, *p1 = p0 + k4 * 4 * NR;
        for (size_t g = 0; g < k4; g++) {
            const size_t k = 4 * g, live = K - k < 4 ? K - k : 4;
            const uint8_t *s = B + k * ldb + n0;
            __m256i r[4];
            for (size_t j = 0; j < 4; j++) {
                r[j] = j < live ? _mm256_permutevar8x32_epi32(
                                      _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(const void *)(s + j * ldb)), f), idx)
                                : z;
            }
            const __m256i t0 = _mm256_unpacklo_epi8(r[0], r[1]), t1 = _mm256_unpackhi_epi8(r[0], r[1]);
            const __m256i t2 = _mm256_unpacklo_epi8(r[2], r[3]), t3 = _mm256_unpackhi_epi8(r[2], r[3]);
            _mm256_storeu_si256((__m256i *)(void *)(p0 + g * 4 * NR), _mm256_unpacklo_epi16(t0, t2));
            _mm256_storeu_si256((__m256i *)(void *)(p0 + g * 4 * NR + 32), _mm256_unpackhi_epi16(t0, t2));
            _mm256_storeu_si256((__m256i *)(void *)(p1 + g * 4 * NR), _mm256_unpacklo_epi16(t1, t3));
            _mm256_storeu_si256((__m256i *)(void *)(p1 + g * 4 * NR + 32), _mm256_unpackhi_epi16(t1, t3));
        }
    }
    if (n0 < N) flotilla_q8_pack_b_quads(N - n0, K, B + n0, ldb, NR, flip, out + (n0 / NR) * k4 * 4 * NR);
}
#endif
