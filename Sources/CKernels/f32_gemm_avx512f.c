// AVX-512 fp32 GEMM: 8×32 register tile (16 zmm accumulators, 2 B vectors, A broadcast from
// memory), K blocked by FLOTILLA_F32_GEMM_KC so the B sliver stays in L1.
//
// Why 8×32: every MobileNet-class channel count is a multiple of 8, so M = Cout tiles exactly;
// 16 accumulators cover the FMA latency × throughput (4 × 1 zmm/cycle on Zen 4, 4 × 2 on Intel)
// with room to spare; 2 B loads + 8 broadcasts per 16 FMAs keep the load ports below their limit.
#include "f32_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl")))
#define ALWAYS_INLINE static inline __attribute__((always_inline))

enum { MR = 8, NR = 32 };

static inline __mmask16 lanes(size_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
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

// C[R × nr] (+)= A[R × kc] · B[kc × nr], a(r, k) = a[r·a_rs + k·a_ks], b(k, j) = b[k·b_ks + j].
// R, V (zmm vectors per row: nr ≤ 16·V), MASKED, and for some callers a_rs/a_ks/b_ks are
// compile-time constants after inlining, so the loops below unroll into straight-line code.
// `accumulate` adds to C (a later K block); otherwise the biases are added. `last` clamps.
ALWAYS_INLINE TARGET void tile(const size_t R, const size_t V, const bool MASKED, size_t kc,
                               const float *a, size_t a_rs, size_t a_ks, const float *b,
                               size_t b_ks, size_t nr, float *c, size_t ldc,
                               const epilogue *e) {
    const __mmask16 m[2] = {lanes(nr), nr > 16 ? lanes(nr - 16) : 0};
    __m512 acc[MR][2];
#pragma GCC unroll 8
    for (size_t r = 0; r < R; r++) {
        acc[r][0] = _mm512_setzero_ps();
        acc[r][1] = _mm512_setzero_ps();
    }
    for (size_t k = 0; k < kc; k++) {
        const float *bk = b + k * b_ks;
        const __m512 b0 = MASKED ? _mm512_maskz_loadu_ps(m[0], bk) : _mm512_loadu_ps(bk);
        __m512 b1 = _mm512_setzero_ps();
        if (V == 2) b1 = MASKED ? _mm512_maskz_loadu_ps(m[1], bk + 16) : _mm512_loadu_ps(bk + 16);
        const float *ak = a + k * a_ks;
#pragma GCC unroll 8
        for (size_t r = 0; r < R; r++) {
            const __m512 av = _mm512_set1_ps(ak[r * a_rs]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            if (V == 2) acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    const __m512 vlo = _mm512_set1_ps(e->lo), vhi = _mm512_set1_ps(e->hi);
    const float *row_bias = e->row_bias, *col_bias = e->col_bias;
#pragma GCC unroll 8
    for (size_t r = 0; r < R; r++) {
        float *cr = c + r * ldc;
#pragma GCC unroll 2
        for (size_t v = 0; v < V; v++) {
            __m512 x = acc[r][v];
            if (e->accumulate) {
                x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m[v], cr + 16 * v));
            } else {
                if (row_bias != NULL) x = _mm512_add_ps(x, _mm512_set1_ps(row_bias[r]));
                if (col_bias != NULL) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m[v], col_bias + 16 * v));
            }
            if (e->last) x = _mm512_min_ps(vhi, _mm512_max_ps(vlo, x));
            _mm512_mask_storeu_ps(cr + 16 * v, m[v], x);
        }
    }
}

typedef void (*ukernel)(size_t kc, const float *a, size_t a_rs, const float *b, size_t b_ks,
                        size_t nr, float *c, size_t ldc, const epilogue *e);

// Three families: packed A × B read in place (masked loads), packed A × B sliver packed on the
// stack, and row-major A × packed B. Each is instantiated for every row count 1…8 so M edges
// compute only real rows, and for 1 or 2 vectors so narrow N edges skip the empty half.
#define KERNELS(NAME, MASKED, A_RS, A_KS, B_KS)                                                   \
    KERNEL(NAME, 1, MASKED, A_RS, A_KS, B_KS) KERNEL(NAME, 2, MASKED, A_RS, A_KS, B_KS)           \
    KERNEL(NAME, 3, MASKED, A_RS, A_KS, B_KS) KERNEL(NAME, 4, MASKED, A_RS, A_KS, B_KS)           \
    KERNEL(NAME, 5, MASKED, A_RS, A_KS, B_KS) KERNEL(NAME, 6, MASKED, A_RS, A_KS, B_KS)           \
    KERNEL(NAME, 7, MASKED, A_RS, A_KS, B_KS) KERNEL(NAME, 8, MASKED, A_RS, A_KS, B_KS)           \
    static const ukernel NAME[MR][2] = {                                                          \
        {NAME##_1x1, NAME##_1x2}, {NAME##_2x1, NAME##_2x2}, {NAME##_3x1, NAME##_3x2},             \
        {NAME##_4x1, NAME##_4x2}, {NAME##_5x1, NAME##_5x2}, {NAME##_6x1, NAME##_6x2},             \
        {NAME##_7x1, NAME##_7x2}, {NAME##_8x1, NAME##_8x2}};
#define KERNEL(NAME, R, MASKED, A_RS, A_KS, B_KS) KERNEL_V(NAME, R, 1, MASKED, A_RS, A_KS, B_KS) \
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

// K blocks of near-equal size no larger than KC, so a K just above KC does not leave a sliver.
static size_t k_block(size_t K) {
    const size_t blocks = (K + FLOTILLA_F32_GEMM_KC - 1) / FLOTILLA_F32_GEMM_KC;
    return blocks <= 1 ? K : (K + blocks - 1) / blocks;
}

size_t flotilla_f32_gemm_pack_a_size__avx512f(size_t M, size_t K) {
    return (M + MR - 1) / MR * MR * K;
}

void flotilla_f32_gemm_pack_a_8x32__avx512f(size_t M, size_t K, const float *A, size_t lda,
                                            float *packed) {
    flotilla_f32_pack_a_panels(M, K, A, lda, MR, packed);
}

TARGET void flotilla_f32_gemm_packed_a_8x32__avx512f(size_t M, size_t N, size_t K,
                                                     const float *packed_a, const float *B,
                                                     size_t ldb, const float *bias, float *C,
                                                     size_t ldc, float lo, float hi) {
    if (M == 0 || N == 0) return;
    // With more than one row tile the B sliver is reused, so it is copied once into a dense,
    // zero-padded stack buffer: unit stride (no L1 set conflicts when ldb is a power of two)
    // and no masks in the inner loop.
    const bool pack_sliver = M > MR;
    float sliver[FLOTILLA_F32_GEMM_KC * NR] __attribute__((aligned(64)));
    const size_t kb = k_block(K);
    size_t k0 = 0;
    do {
        const size_t kc = K - k0 < kb ? K - k0 : kb;
        const bool first = k0 == 0, last = k0 + kc == K;
        for (size_t n0 = 0; n0 < N; n0 += NR) {
            const size_t nr = N - n0 < NR ? N - n0 : NR;
            const size_t v = nr > 16 ? 2 : 1;
            const float *bs = B + k0 * ldb + n0;
            if (pack_sliver) {
                const __mmask16 m0 = lanes(nr), m1 = nr > 16 ? lanes(nr - 16) : 0;
                for (size_t k = 0; k < kc; k++) {
                    _mm512_store_ps(sliver + k * NR, _mm512_maskz_loadu_ps(m0, bs + k * ldb));
                    _mm512_store_ps(sliver + k * NR + 16, _mm512_maskz_loadu_ps(m1, bs + k * ldb + 16));
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

size_t flotilla_f32_gemm_pack_b_size__avx512f(size_t N, size_t K) {
    return (N + NR - 1) / NR * NR * K;
}

void flotilla_f32_gemm_pack_b_8x32__avx512f(size_t N, size_t K, const float *B, size_t ldb,
                                            bool trans_b, float *packed) {
    flotilla_f32_pack_b_panels(N, K, B, ldb, trans_b, NR, packed);
}

void flotilla_f32_gemm_packed_b_8x32__avx512f(size_t M, size_t N, size_t K, const float *A,
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
            const size_t v = nr > 16 ? 2 : 1;
            const float *bp = packed_b + n0 * K + k0 * NR;
            const epilogue e = {NULL, first && bias != NULL ? bias + n0 : NULL, !first, last, lo, hi};
            for (size_t m0 = 0; m0 < M; m0 += MR) {
                const size_t mr = M - m0 < MR ? M - m0 : MR;
                pb[mr - 1][v - 1](kc, A + m0 * lda + k0, lda, bp, NR, nr, C + m0 * ldc + n0, ldc, &e);
            }
        }
        k0 += kc;
    } while (k0 < K);
}

size_t flotilla_f32_gemm_workspace_size__avx512f(size_t M, size_t N, size_t K, bool trans_b) {
    (void)M, (void)trans_b;
    return flotilla_f32_gemm_pack_b_size__avx512f(N, K);
}

void flotilla_f32_gemm_8x32__avx512f(size_t M, size_t N, size_t K, const float *A, size_t lda,
                                     const float *B, size_t ldb, bool trans_b, const float *bias,
                                     float *C, size_t ldc, float lo, float hi, float *workspace) {
    flotilla_f32_pack_b_panels(N, K, B, ldb, trans_b, NR, workspace);
    flotilla_f32_gemm_packed_b_8x32__avx512f(M, N, K, A, lda, workspace, bias, C, ldc, lo, hi);
}

#endif
