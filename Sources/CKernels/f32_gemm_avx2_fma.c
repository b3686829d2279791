// AVX2 + FMA fp32 GEMM: 6×16 register tile (12 ymm accumulators, 2 B vectors, 1 broadcast = 15
// of the 16 registers), K blocked by FLOTILLA_F32_GEMM_KC.
//
// Why 6×16: 12 accumulators cover FMA latency × throughput (4 × 2 ymm/cycle = 8), and 2 B loads
// + 6 broadcasts per 12 FMAs keep the loads under their limit. A 4×24 tile has the same 12
// accumulators but needs all 16 registers, and clang then spills an accumulator in the inner
// loop (measured); 6×16 leaves one register free. M edges use exact-row kernels (1…5 rows).
#include "f32_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma")))
#define ALWAYS_INLINE static inline __attribute__((always_inline))

enum { MR = 6, NR = 16 };

// Lane mask for the first n (clamped to 0…8) lanes of a vector, for maskload/maskstore.
ALWAYS_INLINE TARGET __m256i lanes(ptrdiff_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 0 ? 0 : n > 8 ? 8 : n)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// What a tile does after its K loop. Passed by pointer so that nothing but the accumulators
// is live in vector registers during the loop (clamp bounds in registers made GCC spill one).
typedef struct epilogue {
    const float *row_bias;  // per row of the tile, or NULL; only when !accumulate
    const float *col_bias;  // per column of the tile, or NULL; only when !accumulate
    bool accumulate;        // add to C (a later K block) instead of adding biases
    bool last;              // last K block: clamp
    float lo, hi;
} epilogue;

// C[R × nr] (+)= A[R × kc] · B[kc × nr]; see f32_gemm_avx512f.c for the conventions. MASKED
// loads B with lane masks (B read in place at an N edge); unmasked loads need B padded to 8·V.
ALWAYS_INLINE TARGET void tile(const size_t R, const size_t V, const bool MASKED, size_t kc,
                               const float *a, size_t a_rs, size_t a_ks, const float *b,
                               size_t b_ks, size_t nr, float *c, size_t ldc,
                               const epilogue *e) {
    const __m256i m[2] = {lanes((ptrdiff_t)nr), lanes((ptrdiff_t)nr - 8)};
    __m256 acc[MR][2];
#pragma GCC unroll 6
    for (size_t r = 0; r < R; r++) {
#pragma GCC unroll 2
        for (size_t v = 0; v < 2; v++) acc[r][v] = _mm256_setzero_ps();
    }
    for (size_t k = 0; k < kc; k++) {
        const float *bk = b + k * b_ks;
        __m256 bv[2];
#pragma GCC unroll 2
        for (size_t v = 0; v < V; v++) {
            bv[v] = MASKED ? _mm256_maskload_ps(bk + 8 * v, m[v]) : _mm256_loadu_ps(bk + 8 * v);
        }
        const float *ak = a + k * a_ks;
#pragma GCC unroll 6
        for (size_t r = 0; r < R; r++) {
            const __m256 av = _mm256_broadcast_ss(ak + r * a_rs);
#pragma GCC unroll 2
            for (size_t v = 0; v < V; v++) acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
        }
    }
    const __m256 vlo = _mm256_set1_ps(e->lo), vhi = _mm256_set1_ps(e->hi);
    const float *row_bias = e->row_bias, *col_bias = e->col_bias;
#pragma GCC unroll 6
    for (size_t r = 0; r < R; r++) {
        float *cr = c + r * ldc;
#pragma GCC unroll 2
        for (size_t v = 0; v < V; v++) {
            const bool full = nr >= 8 * (v + 1);
            __m256 x = acc[r][v];
            if (e->accumulate) {
                x = _mm256_add_ps(x, full ? _mm256_loadu_ps(cr + 8 * v) : _mm256_maskload_ps(cr + 8 * v, m[v]));
            } else {
                if (row_bias != NULL) x = _mm256_add_ps(x, _mm256_broadcast_ss(row_bias + r));
                if (col_bias != NULL) {
                    x = _mm256_add_ps(x, full ? _mm256_loadu_ps(col_bias + 8 * v)
                                              : _mm256_maskload_ps(col_bias + 8 * v, m[v]));
                }
            }
            if (e->last) x = _mm256_min_ps(vhi, _mm256_max_ps(vlo, x));
            if (full) {
                _mm256_storeu_ps(cr + 8 * v, x);
            } else {
                _mm256_maskstore_ps(cr + 8 * v, m[v], x);
            }
        }
    }
}

typedef void (*ukernel)(size_t kc, const float *a, size_t a_rs, const float *b, size_t b_ks,
                        size_t nr, float *c, size_t ldc, const epilogue *e);

// Same three families as the AVX-512 path, for 1…6 rows and 1 or 2 vectors.
#define KERNELS(NAME, MASKED, A_RS, A_KS, B_KS)                                                   \
    KERNEL(NAME, 1, MASKED, A_RS, A_KS, B_KS) KERNEL(NAME, 2, MASKED, A_RS, A_KS, B_KS)           \
    KERNEL(NAME, 3, MASKED, A_RS, A_KS, B_KS) KERNEL(NAME, 4, MASKED, A_RS, A_KS, B_KS)           \
    KERNEL(NAME, 5, MASKED, A_RS, A_KS, B_KS) KERNEL(NAME, 6, MASKED, A_RS, A_KS, B_KS)           \
    static const ukernel NAME[MR][2] = {{NAME##_1x1, NAME##_1x2}, {NAME##_2x1, NAME##_2x2},       \
                                        {NAME##_3x1, NAME##_3x2}, {NAME##_4x1, NAME##_4x2},       \
                                        {NAME##_5x1, NAME##_5x2}, {NAME##_6x1, NAME##_6x2}};
#define KERNEL(NAME, R, MASKED, A_RS, A_KS, B_KS)                                                 \
    KERNEL_V(NAME, R, 1, MASKED, A_RS, A_KS, B_KS)                                                \
    KERNEL_V(NAME, R, 2, MASKED, A_RS, A_KS, B_KS)
#define KERNEL_V(NAME, R, V, MASKED, A_RS, A_KS, B_KS)                                            \
    static TARGET void NAME##_##R##x##V(size_t kc, const float *a, size_t a_rs, const float *b,   \
                                        size_t b_ks, size_t nr, float *c, size_t ldc,             \
                                        const epilogue *e) {                                      \
        (void)a_rs, (void)b_ks;                                                                   \
        tile(R, V, MASKED, kc, a, A_RS, A_KS, b, B_KS, nr, c, ldc, e);                            \
    }

KERNELS(pa_direct, false, 1, MR, b_ks)
KERNELS(pa_edge, true, 1, MR, b_ks)
KERNELS(pa_sliver, false, 1, MR, NR)
KERNELS(pb, false, a_rs, 1, NR)

static size_t k_block(size_t K) {
    const size_t blocks = (K + FLOTILLA_F32_GEMM_KC - 1) / FLOTILLA_F32_GEMM_KC;
    return blocks <= 1 ? K : (K + blocks - 1) / blocks;
}

static size_t vectors(size_t nr) { return (nr + 7) / 8; }

size_t flotilla_f32_gemm_pack_a_size__avx2_fma(size_t M, size_t K) {
    return (M + MR - 1) / MR * MR * K;
}

void flotilla_f32_gemm_pack_a_6x16__avx2_fma(size_t M, size_t K, const float *A, size_t lda,
                                             float *packed) {
    flotilla_f32_pack_a_panels(M, K, A, lda, MR, packed);
}

TARGET void flotilla_f32_gemm_packed_a_6x16__avx2_fma(size_t M, size_t N, size_t K,
                                                      const float *packed_a, const float *B,
                                                      size_t ldb, const float *bias, float *C,
                                                      size_t ldc, float lo, float hi) {
    if (M == 0 || N == 0) return;
    // See the AVX-512 path: a reused B sliver is copied dense and zero-padded onto the stack.
    const bool pack_sliver = M > MR;
    float sliver[FLOTILLA_F32_GEMM_KC * NR] __attribute__((aligned(32)));
    const size_t kb = k_block(K);
    size_t k0 = 0;
    do {
        const size_t kc = K - k0 < kb ? K - k0 : kb;
        const bool first = k0 == 0, last = k0 + kc == K;
        for (size_t n0 = 0; n0 < N; n0 += NR) {
            const size_t nr = N - n0 < NR ? N - n0 : NR;
            const size_t v = vectors(nr);
            const float *bs = B + k0 * ldb + n0;
            if (pack_sliver) {
                const __m256i m0 = lanes((ptrdiff_t)nr), m1 = lanes((ptrdiff_t)nr - 8);
                for (size_t k = 0; k < kc; k++) {
                    const float *src = bs + k * ldb;
                    float *dst = sliver + k * NR;
                    _mm256_store_ps(dst, _mm256_maskload_ps(src, m0));
                    _mm256_store_ps(dst + 8, _mm256_maskload_ps(src + 8, m1));
                }
            }
            for (size_t m0 = 0; m0 < M; m0 += MR) {
                const size_t mr = M - m0 < MR ? M - m0 : MR;
                const float *ap = packed_a + m0 * K + k0 * MR;
                const epilogue e = {first && bias != NULL ? bias + m0 : NULL, NULL, !first, last, lo, hi};
                float *cp = C + m0 * ldc + n0;
                // Unmasked loads unless this tile is at the N edge of an in-place B.
                const ukernel(*family)[sizeof pa_edge[0] / sizeof pa_edge[0][0]] =
                    pack_sliver ? pa_sliver : nr == NR ? pa_direct : pa_edge;
                family[mr - 1][v - 1](kc, ap, 1, pack_sliver ? sliver : bs, pack_sliver ? NR : ldb, nr, cp, ldc, &e);
            }
        }
        k0 += kc;
    } while (k0 < K);
}

size_t flotilla_f32_gemm_pack_b_size__avx2_fma(size_t N, size_t K) {
    return (N + NR - 1) / NR * NR * K;
}

void flotilla_f32_gemm_pack_b_6x16__avx2_fma(size_t N, size_t K, const float *B, size_t ldb,
                                             bool trans_b, float *packed) {
    flotilla_f32_pack_b_panels(N, K, B, ldb, trans_b, NR, packed);
}

void flotilla_f32_gemm_packed_b_6x16__avx2_fma(size_t M, size_t N, size_t K, const float *A,
                                               size_t lda, const float *packed_b,
                                               const float *bias, float *C, size_t ldc, float lo,
                                               float hi) {
    if (M == 0 || N == 0) return;
    const size_t kb = k_block(K);
    size_t k0 = 0;
    do {
        const size_t kc = K - k0 < kb ? K - k0 : kb;
        const bool first = k0 == 0, last = k0 + kc == K;
        for (size_t n0 = 0; n0 < N; n0 += NR) {
            const size_t nr = N - n0 < NR ? N - n0 : NR;
            const float *bp = packed_b + n0 * K + k0 * NR;
            const epilogue e = {NULL, first && bias != NULL ? bias + n0 : NULL, !first, last, lo, hi};
            for (size_t m0 = 0; m0 < M; m0 += MR) {
                const size_t mr = M - m0 < MR ? M - m0 : MR;
                pb[mr - 1][vectors(nr) - 1](kc, A + m0 * lda + k0, lda, bp, NR, nr,
                                            C + m0 * ldc + n0, ldc, &e);
            }
        }
        k0 += kc;
    } while (k0 < K);
}

size_t flotilla_f32_gemm_workspace_size__avx2_fma(size_t M, size_t N, size_t K, bool trans_b) {
    (void)M, (void)trans_b;
    return flotilla_f32_gemm_pack_b_size__avx2_fma(N, K);
}

void flotilla_f32_gemm_6x16__avx2_fma(size_t M, size_t N, size_t K, const float *A, size_t lda,
                                      const float *B, size_t ldb, bool trans_b, const float *bias,
                                      float *C, size_t ldc, float lo, float hi, float *workspace) {
    flotilla_f32_pack_b_panels(N, K, B, ldb, trans_b, NR, workspace);
    flotilla_f32_gemm_packed_b_6x16__avx2_fma(M, N, K, A, lda, workspace, bias, C, ldc, lo, hi);
}

#endif
