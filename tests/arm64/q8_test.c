// Bit-exactness test of the int8 kernels in plain C, for ARM64 under qemu and x86 natively:
// every optimized path this CPU runs against the reference on seeded random shapes, zero
// points, weights, multipliers and clamps, plus the contract's unit checks.
// Usage: q8_test [path,path,...]  — the listed paths must be runnable (else exit 2).
// Prints how many cases were identical and mismatched; exits non-zero on any mismatch.
#include "ckernels.h"
#include "q8_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#include "q8_x86_requant.h"  // the x86 vector requantizations, checked lane by lane below
#endif
#if defined(__aarch64__)
#include "q8_gemm_nhwc_arm.h"  // the per-lane requant of the channels-last GEMMs, checked below
#endif

static unsigned long passed, failed;
static uint64_t rng_state = 0x1234567887654321ull;

static uint64_t next(void) {  // SplitMix64
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static int64_t range(int64_t lo, int64_t hi) { return lo + (int64_t)(next() % (uint64_t)(hi - lo + 1)); }
static double uniform(void) { return (double)(next() >> 11) / 9007199254740992.0; }

static void check(int ok, const char *what) {
    if (ok) {
        passed++;
    } else {
        failed++;
        if (failed <= 20) fprintf(stderr, "FAIL: %s\n", what);
    }
}

static void *xmalloc(size_t n) {
    void *p = malloc(n > 0 ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "out of memory (%zu bytes)\n", n);
        exit(3);
    }
    return p;
}

static const size_t dims[] = {1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100, 257};
#define NDIMS (sizeof dims / sizeof dims[0])

static void contract_unit_tests(void) {
    int32_t m, s;
    check(flotilla_q8_quantize_multiplier(0.5, &m, &s) == FLOTILLA_Q8_OK && m == (1 << 30) && s == 0, "m=0.5");
    check(flotilla_q8_quantize_multiplier(1.0, &m, &s) == FLOTILLA_Q8_OK && m == (1 << 30) && s == -1, "m=1");
    check(flotilla_q8_quantize_multiplier(0.75, &m, &s) == FLOTILLA_Q8_OK && m == 0x60000000 && s == 0, "m=0.75");
    check(flotilla_q8_quantize_multiplier(1e-12, &m, &s) == FLOTILLA_Q8_OK && m == 0 && s == 0, "tiny m");
    check(flotilla_q8_quantize_multiplier(0.0, &m, &s) == FLOTILLA_Q8_BAD_SCALE, "m=0 refused");
    check(flotilla_q8_quantize_multiplier(2e9, &m, &s) == FLOTILLA_Q8_BAD_SCALE, "huge m refused");
    // Ties round toward +inf: 5/2 -> 3, -5/2 -> -2, -7/2 -> -3.
    check(flotilla_q8_round_shift(5, 1) == 3 && flotilla_q8_round_shift(-5, 1) == -2 &&
          flotilla_q8_round_shift(-7, 1) == -3 && flotilla_q8_round_shift(-6, 2) == -1, "ties");
    // acc 3 · 0.5 = 1.5 -> 2; acc -3 · 0.5 = -1.5 -> -1 (then + zero point 10).
    check(flotilla_q8_requantize(3, 1 << 30, 0, 10, 0, 255) == 12, "requant +tie");
    check(flotilla_q8_requantize(-3, 1 << 30, 0, 10, 0, 255) == 9, "requant -tie");
    // QuantizeLinear rounds half to even: 2.5 → 2, 3.5 → 4, −2.5 → −2; NaN → zero point; saturates.
    const flotilla_q8_kernels *ref = flotilla_q8_kernels_named("reference");
    const float xs[] = {2.5f, 3.5f, -2.5f, NAN, 1e9f, -1e9f, 0.49999997f};
    uint8_t ys[7];
    ref->quantize(7, xs, 1.0f, 10, 0, 255, ys);
    check(ys[0] == 12 && ys[1] == 14 && ys[2] == 8 && ys[3] == 10 && ys[4] == 255 && ys[5] == 0 && ys[6] == 10,
          "quantize ties/NaN/saturation");
}

static void fill_bytes(uint8_t *p, size_t n, int pattern) {
    for (size_t i = 0; i < n; i++) {
        switch (pattern) {
        case 0: p[i] = 0; break;
        case 1: p[i] = 255; break;
        case 2: p[i] = 0x80; break;  // s8 -128 / u8 128
        default: p[i] = (uint8_t)next(); break;
        }
    }
}

// One GEMM case on `t` against the reference; returns 1 when identical.
static void gemm_case(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t, size_t M, size_t N, size_t K) {
    static const int32_t zp_u8[] = {0, 1, 127, 128, 255}, zp_s8[] = {-128, 0, 127};
    const flotilla_q8_type xt = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    const flotilla_q8_type yt = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    const int32_t zx = xt == FLOTILLA_Q8_U8 ? zp_u8[next() % 5] : zp_s8[next() % 3];
    const int32_t zy = yt == FLOTILLA_Q8_U8 ? zp_u8[next() % 5] : zp_s8[next() % 3];
    const bool seven = (next() % 4) == 0;
    const int32_t wmax = seven ? 63 : 127;
    const size_t ldw = K + (size_t)range(0, 3), ldb = N + (size_t)range(0, 5), ldc = N + (size_t)range(0, 5);
    int8_t *W = xmalloc(M * ldw);
    uint8_t *B = xmalloc(K * ldb);
    int32_t *bias = xmalloc(M * sizeof(int32_t)), *mult = xmalloc(M * sizeof(int32_t)), *shift = xmalloc(M * sizeof(int32_t));
    const int wpat = (int)(next() % 6), bpat = (int)(next() % 6);
    for (size_t i = 0; i < M * ldw; i++) {
        W[i] = wpat == 0 ? 0 : wpat == 1 ? (int8_t)wmax : wpat == 2 ? (int8_t)-wmax : (int8_t)range(-wmax, wmax);
    }
    fill_bytes(B, K * ldb, bpat > 3 ? 3 : bpat);
    const int mode = (int)(next() % 4);  // typical, >= 1, tiny, mixed
    for (size_t m = 0; m < M; m++) {
        bias[m] = (next() % 8 == 0) ? (int32_t)range(-(1 << 30), 1 << 30) : (int32_t)range(-100000, 100000);
        double real = mode == 0 ? 1e-4 + uniform() * 1e-2 : mode == 1 ? 1.0 + uniform() * 200.0
                      : mode == 2 ? 1e-11 * (1 + uniform()) : (1e-9 + uniform() * 4.0);
        if (flotilla_q8_quantize_multiplier(real, &mult[m], &shift[m]) != FLOTILLA_Q8_OK) mult[m] = 0, shift[m] = 0;
    }
    const int32_t tmin = yt == FLOTILLA_Q8_U8 ? 0 : -128, tmax = yt == FLOTILLA_Q8_U8 ? 255 : 127;
    int32_t qmin = tmin, qmax = tmax;
    if (next() % 3 == 0) {
        qmin = (int32_t)range(tmin, tmax);
        qmax = (int32_t)range(qmin, tmax);
    }
    const flotilla_q8_requant rq = {.multiplier = mult, .shift = shift, .per_channel = (next() & 1) != 0,
                                    .type = yt, .zero_point = zy, .qmin = qmin, .qmax = qmax};
    const flotilla_q8_gemm_pack_params pp = {.M = M, .K = K, .x_type = xt, .x_zero_point = zx, .seven_bit = seven};
    void *pr = xmalloc(ref->gemm_pack_size(M, K)), *pt = xmalloc(t->gemm_pack_size(M, K));
    uint8_t *cr = xmalloc(M * ldc), *ct = xmalloc(M * ldc);
    memset(cr, 0xA5, M * ldc);
    memset(ct, 0xA5, M * ldc);
    void *wr = xmalloc(ref->gemm_workspace_size(N, K)), *wt = xmalloc(t->gemm_workspace_size(N, K));
    char what[200];
    snprintf(what, sizeof what, "gemm %s M=%zu N=%zu K=%zu xt=%d zx=%d yt=%d mode=%d", t->name, M, N, K, xt, zx, yt, mode);
    int ok = ref->gemm_pack(&pp, W, ldw, bias, pr) == FLOTILLA_Q8_OK && t->gemm_pack(&pp, W, ldw, bias, pt) == FLOTILLA_Q8_OK;
    ok = ok && ref->gemm(M, N, K, pr, B, ldb, &rq, cr, ldc, wr) == FLOTILLA_Q8_OK;
    ok = ok && t->gemm(M, N, K, pt, B, ldb, &rq, ct, ldc, wt) == FLOTILLA_Q8_OK;
    check(ok && memcmp(cr, ct, M * ldc) == 0, what);
    // A buffer packed by another path is refused, not misread.
    check(t->gemm(M, N, K, pr, B, ldb, &rq, ct, ldc, wt) == FLOTILLA_Q8_PACK_MISMATCH, "mismatched pack refused");
    free(W), free(B), free(bias), free(mult), free(shift), free(pr), free(pt), free(cr), free(ct), free(wr), free(wt);
}

// GEMM whose rows each get their own (multiplier, shift): every shift in [-30, 31] (the 32-bit
// epilogue takes shift >= 2, the 64-bit one the rest) with multipliers at both ends of
// [2^30, 2^31) and 0, biases at ±2^30 so accumulators reach the int32 ends with long K, at the
// MobileNet 1x1/stem shapes (K = 4, 8, 12, 16, 27, odd K) and across full tiles and tails.
static void gemm_requant_sweep(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t, size_t M, size_t N,
                               size_t K, int extreme) {
    const flotilla_q8_type xt = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    const flotilla_q8_type yt = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    const int32_t zx = extreme ? (xt == FLOTILLA_Q8_U8 ? 0 : -128) : (int32_t)range(xt == FLOTILLA_Q8_U8 ? 0 : -128, xt == FLOTILLA_Q8_U8 ? 255 : 127);
    const int32_t zy = (int32_t)range(yt == FLOTILLA_Q8_U8 ? 0 : -128, yt == FLOTILLA_Q8_U8 ? 255 : 127);
    int8_t *W = xmalloc(M * K);
    uint8_t *B = xmalloc(K * N);
    int32_t *bias = xmalloc(M * 4), *mult = xmalloc(M * 4), *shift = xmalloc(M * 4);
    for (size_t m = 0; m < M; m++) {
        // extreme: rows alternate all +127 / all -127 against the largest activation byte.
        const int8_t wv = (m & 1) ? 127 : -127;
        for (size_t k = 0; k < K; k++) W[m * K + k] = extreme ? wv : (int8_t)range(-127, 127);
        bias[m] = extreme ? ((m & 1) ? (1 << 30) : -(1 << 30)) : (int32_t)range(-(1 << 30), 1 << 30);
        shift[m] = (int32_t)(m % 62) - 30;
        const int kind = (int)(next() % 4);
        mult[m] = kind == 0 ? (int32_t)(1u << 30) : kind == 1 ? INT32_MAX : kind == 2 ? (int32_t)range(1 << 30, INT32_MAX) : 0;
        if (mult[m] == 0) shift[m] = 0;
    }
    const uint8_t top = xt == FLOTILLA_Q8_U8 ? 255 : 127;
    for (size_t i = 0; i < K * N; i++) B[i] = extreme ? top : (uint8_t)next();
    const int32_t tmin = yt == FLOTILLA_Q8_U8 ? 0 : -128, tmax = yt == FLOTILLA_Q8_U8 ? 255 : 127;
    const int32_t qmin = next() % 2 ? tmin : (int32_t)range(tmin, tmax), qmax = next() % 2 ? tmax : (int32_t)range(qmin, tmax);
    const flotilla_q8_requant rq = {.multiplier = mult, .shift = shift, .per_channel = true, .type = yt,
                                    .zero_point = zy, .qmin = qmin, .qmax = qmax};
    const flotilla_q8_gemm_pack_params pp = {.M = M, .K = K, .x_type = xt, .x_zero_point = zx};
    void *pr = xmalloc(ref->gemm_pack_size(M, K)), *pt = xmalloc(t->gemm_pack_size(M, K));
    uint8_t *cr = xmalloc(M * N), *ct = xmalloc(M * N);
    void *wr = xmalloc(ref->gemm_workspace_size(N, K)), *wt = xmalloc(t->gemm_workspace_size(N, K));
    char what[200];
    snprintf(what, sizeof what, "gemm requant sweep %s M=%zu N=%zu K=%zu xt=%d zx=%d yt=%d zy=%d extreme=%d", t->name, M, N,
             K, xt, zx, yt, zy, extreme);
    int ok = ref->gemm_pack(&pp, W, K, bias, pr) == FLOTILLA_Q8_OK && t->gemm_pack(&pp, W, K, bias, pt) == FLOTILLA_Q8_OK;
    ok = ok && ref->gemm(M, N, K, pr, B, N, &rq, cr, N, wr) == FLOTILLA_Q8_OK;
    ok = ok && t->gemm(M, N, K, pt, B, N, &rq, ct, N, wt) == FLOTILLA_Q8_OK;
    check(ok && memcmp(cr, ct, M * N) == 0, what);
    free(W), free(B), free(bias), free(mult), free(shift), free(pr), free(pt), free(cr), free(ct), free(wr), free(wt);
}

#if defined(__x86_64__)
// The vector requantizations of q8_x86_requant.h lane by lane against the scalar contract: every
// shift in [-30, 31], multipliers 0, 2^30, 2^31 - 1 and random, accumulators at the int32 ends,
// at 0, ±1 and at rounding ties of the shift, with every zero point sign and narrowed clamps.
__attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl"))) static void requant16_x86(const int32_t *acc, int32_t m,
                                                                                     int32_t s, int32_t zp, int32_t lo,
                                                                                     int32_t hi, uint8_t *out) {
    _mm_storeu_si128((__m128i *)(void *)out,
                     flotilla_q8_requant16_avx512(_mm512_loadu_si512((const void *)acc), m, s, zp, lo, hi));
}

__attribute__((target("avx2,fma"))) static void requant8_x86(const int32_t *acc, int32_t m, int32_t s, int32_t zp,
                                                             int32_t lo, int32_t hi, uint8_t *out) {
    _mm_storel_epi64((__m128i *)(void *)out,
                     flotilla_q8_requant8_avx2(_mm256_loadu_si256((const __m256i *)(const void *)acc), m, s, zp, lo, hi));
}

static void requant_x86_sweep(void) {
    const int avx512 = flotilla_q8_kernels_named("avx512vnni") != NULL, avx2 = flotilla_q8_kernels_named("avx2") != NULL;
    if (!avx2) return;
    unsigned long bad = 0, cases = 0;
    for (int32_t s = -30; s <= 31; s++) {
        for (int rep = 0; rep < 40; rep++) {
            const int32_t m = rep == 0 ? 0 : rep == 1 ? (1 << 30) : rep == 2 ? INT32_MAX : (int32_t)range(1 << 30, INT32_MAX);
            const int32_t sh = m == 0 ? 0 : s;
            const flotilla_q8_type yt = (rep & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
            const int32_t tmin = yt == FLOTILLA_Q8_U8 ? 0 : -128, tmax = yt == FLOTILLA_Q8_U8 ? 255 : 127;
            const int32_t zp = (int32_t)range(tmin, tmax);
            const int32_t lo = rep % 3 ? tmin : (int32_t)range(tmin, tmax), hi = rep % 5 ? tmax : (int32_t)range(lo, tmax);
            int32_t acc[16];
            for (int i = 0; i < 16; i++) {
                const int kind = (int)(next() % 8);
                const int n = 31 + sh;
                // A tie: acc·m + 2^(n-1) a multiple of 2^n needs acc·m ≡ 2^(n-1) (mod 2^n); try
                // acc = ±2^k for small products instead, plus the ends and random values.
                acc[i] = kind == 0 ? INT32_MIN : kind == 1 ? INT32_MAX : kind == 2 ? INT32_MIN + 1
                       : kind == 3 ? (int32_t)range(-2, 2) : kind == 4 ? (int32_t)((next() & 1 ? 1 : -1) * (1 << (next() % 31)))
                       : kind == 5 ? (int32_t)(n < 62 ? ((int64_t)1 << (n - 1)) / (m > 0 ? m : 1) : 7)
                       : (int32_t)next();
            }
            int32_t want[16];
            for (int i = 0; i < 16; i++) want[i] = flotilla_q8_requantize(acc[i], m, sh, zp, lo, hi);
            uint8_t got[16];
            if (avx512) {
                requant16_x86(acc, m, sh, zp, lo, hi, got);
                for (int i = 0; i < 16; i++) bad += got[i] != (uint8_t)want[i];
            }
            requant8_x86(acc, m, sh, zp, lo, hi, got);
            for (int i = 0; i < 8; i++) bad += got[i] != (uint8_t)want[i];
            cases++;
        }
    }
    char what[120];
    snprintf(what, sizeof what, "x86 vector requant sweep: %lu lane mismatches in %lu cases", bad, cases);
    check(bad == 0, what);
}
#endif

#if defined(__aarch64__)
// The channels-last GEMMs' per-lane requant (q8_gemm_nhwc_arm.h) lane by lane against the
// scalar contract: 16 lanes with their own (multiplier, shift), all shifts ≥ 1 (the 32-bit
// SQDMULH + SRSHL form: s = 1 and 31 included) or any in [-30, 31] (the 64-bit form), with
// multipliers 0, 2^30, 2^31 − 1 and random, accumulators at the int32 ends, ±2^k and ties.
static void requant_arm_sweep(void) {
    unsigned long bad = 0, cases = 0, q31_blocks = 0, wrong_form = 0;
    for (int rep = 0; rep < 4000; rep++) {
        const bool all_ge1 = rep % 2 == 0;
        int32_t mult[16], shift[16], acc[16];
        for (int i = 0; i < 16; i++) {
            const int k = (int)(next() % 5);
            mult[i] = k == 0 ? 0 : k == 1 ? (1 << 30) : k == 2 ? INT32_MAX : (int32_t)range(1 << 30, INT32_MAX);
            shift[i] = all_ge1 ? (rep / 2 + i) % 31 + 1 : (int32_t)((rep / 2 + i) % 62) - 30;
            const int n = 31 + shift[i], kind = (int)(next() % 8);
            acc[i] = kind == 0 ? INT32_MIN : kind == 1 ? INT32_MAX : kind == 2 ? INT32_MIN + 1
                   : kind == 3 ? (int32_t)range(-2, 2) : kind == 4 ? (int32_t)((next() & 1 ? 1 : -1) * (1 << (next() % 31)))
                   : kind == 5 ? (int32_t)(n < 62 && mult[i] > 0 ? (((int64_t)1 << (n - 1)) / mult[i]) * (next() & 1 ? 1 : -1) : 7)
                   : (int32_t)next();
        }
        const flotilla_q8_type yt = (rep & 2) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
        const int32_t zp = (int32_t)range(flotilla_q8_type_min(yt), flotilla_q8_type_max(yt));
        const int32_t lo = rep % 3 ? flotilla_q8_type_min(yt) : (int32_t)range(flotilla_q8_type_min(yt), flotilla_q8_type_max(yt));
        const int32_t hi = rep % 5 ? flotilla_q8_type_max(yt) : (int32_t)range(lo, flotilla_q8_type_max(yt));
        const flotilla_q8_requant rq = {.multiplier = mult, .shift = shift, .per_channel = true, .type = yt,
                                        .zero_point = zp, .qmin = lo, .qmax = hi};
        nhwc_rq16 r;
        nhwc_rq16_init(&rq, 0, 16, &r);
        bool eligible = true;  // the 32-bit form iff every lane with a multiplier has shift ≥ 1
        for (int i = 0; i < 16; i++) eligible = eligible && (mult[i] == 0 || shift[i] >= 1);
        q31_blocks += r.q31;
        wrong_form += r.q31 != eligible;
        const int32x4_t v[4] = {vld1q_s32(acc), vld1q_s32(acc + 4), vld1q_s32(acc + 8), vld1q_s32(acc + 12)};
        uint8_t got[16];
        nhwc_store16(v, 4, &r, got, 16);
        for (int i = 0; i < 16; i++) bad += got[i] != (uint8_t)flotilla_q8_requantize(acc[i], mult[i], shift[i], zp, lo, hi);
        cases++;
    }
    char what[140];
    snprintf(what, sizeof what, "arm per-lane requant sweep: %lu lane mismatches in %lu cases (%lu 32-bit)", bad, cases,
             q31_blocks);
    check(bad == 0 && wrong_form == 0 && q31_blocks >= cases / 2, what);
    printf("%s\n", what);
}
#endif

// im2col of stride-2 convs (the MobileNet stem 3×96×96 k3 s2 pad 1, odd widths, asymmetric
// padding, dilation) against the reference: the row copy has a stride-2 loop of its own.
static void im2col_stride2_case(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t, size_t c, size_t h,
                                size_t w, size_t k, size_t pl, size_t pr, size_t dil) {
    const flotilla_f32_conv2d_geometry g = {.channels = c, .in_h = h, .in_w = w, .kernel_h = k, .kernel_w = k,
                                            .stride_h = 2, .stride_w = 2, .dilation_h = dil, .dilation_w = dil,
                                            .pad_top = pl, .pad_left = pl, .pad_bottom = pr, .pad_right = pr};
    const size_t cols = c * k * k * flotilla_f32_conv2d_out_h(&g) * flotilla_f32_conv2d_out_w(&g);
    uint8_t *x = xmalloc(c * h * w), *ir = xmalloc(cols), *it = xmalloc(cols);
    for (size_t i = 0; i < c * h * w; i++) x[i] = (uint8_t)next();
    const uint8_t pad = (uint8_t)next();
    ref->im2col(&g, x, pad, ir);
    t->im2col(&g, x, pad, it);
    char what[160];
    snprintf(what, sizeof what, "im2col stride 2 %s %zux%zux%zu k=%zu pads %zu/%zu d=%zu", t->name, c, h, w, k, pl, pr, dil);
    check(memcmp(ir, it, cols) == 0, what);
    free(x), free(ir), free(it);
}

// The plan-time pack (dwconv_pack / dwconv_packed) on the same case: where the path packs for g,
// a run reading weights and bias only from the pack (the params point at zeroed copies) must
// write yr's bytes; else the NULL-pack entry must. Packed cases are counted for the summary.
static unsigned long dw_packed_cases;
static void dwconv_packed_check(const flotilla_q8_kernels *t, const flotilla_f32_conv2d_geometry *g,
                                const flotilla_q8_dwconv_params *p, const uint8_t *x, const uint8_t *yr, size_t out,
                                const char *what) {
    uint8_t *yt = xmalloc(out + 1);
    memset(yt, 0x5A, out + 1);
    const size_t size = t->dwconv_pack_size(g);
    if (size == 0) {
        check(t->dwconv_packed(g, p, NULL, x, yt) == FLOTILLA_Q8_OK && memcmp(yr, yt, out + 1) == 0, what);
        free(yt);
        return;
    }
    void *packed = aligned_alloc(64, (size + 63) / 64 * 64);
    const size_t taps = g->kernel_h * g->kernel_w;
    int8_t *w0 = calloc(g->channels * taps, 1);
    int32_t *b0 = calloc(g->channels, 4);
    if (packed == NULL || w0 == NULL || b0 == NULL) abort();
    check(t->dwconv_pack(g, p, packed) == FLOTILLA_Q8_OK, what);
    flotilla_q8_dwconv_params q = *p;
    q.weights = w0;
    q.bias = p->bias != NULL ? b0 : NULL;
    check(t->dwconv_packed(g, &q, packed, x, yt) == FLOTILLA_Q8_OK && memcmp(yr, yt, out + 1) == 0, what);
    dw_packed_cases++;
    free(packed), free(w0), free(b0), free(yt);
}

// big: MobileNet-sized planes (up to 56×56, the padded path's whole-plane runs and block tails);
// otherwise small planes. Kernels 1×1 to 5×5, square or not (tap counts 1..25: every remainder
// of the 2- and 4-tap groups), edge-valued inputs, weights and zero points.
static void dwconv_case(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t, int big) {
    flotilla_f32_conv2d_geometry g;
    do {
        const size_t k = next() % 3 == 0 ? (size_t)range(1, 5) : 3;
        const size_t kw = next() % 4 == 0 ? (size_t)range(1, 5) : k;
        g = (flotilla_f32_conv2d_geometry){
            .channels = (size_t)range(1, big ? 4 : 12), .in_h = (size_t)range(1, big ? 56 : 20),
            .in_w = (size_t)range(1, big ? 56 : 40), .kernel_h = k, .kernel_w = kw, .stride_h = (size_t)range(1, 2), .stride_w = (size_t)range(1, 3),
            .dilation_h = (size_t)range(1, 2), .dilation_w = (size_t)range(1, 2),
            .pad_top = (size_t)range(0, 2), .pad_left = (size_t)range(0, 2),
            .pad_bottom = (size_t)range(0, 2), .pad_right = (size_t)range(0, 2),
        };
    } while (flotilla_f32_conv2d_geometry_check(&g) != FLOTILLA_F32_GEOMETRY_OK);
    const size_t oh = flotilla_f32_conv2d_out_h(&g), ow = flotilla_f32_conv2d_out_w(&g), C = g.channels;
    const size_t taps = g.kernel_h * g.kernel_w, in = C * g.in_h * g.in_w, out = C * oh * ow;
    uint8_t *x = xmalloc(in), *yr = xmalloc(out + 1), *yt = xmalloc(out + 1);
    int8_t *w = xmalloc(C * taps);
    int32_t *bias = xmalloc(C * 4), *mult = xmalloc(C * 4), *shift = xmalloc(C * 4);
    fill_bytes(x, in, (int)(next() % 5));
    const int wmode = (int)(next() % 4);  // 0: ±127 only, 1: all −127, else uniform
    for (size_t i = 0; i < C * taps; i++) {
        w[i] = (int8_t)(wmode == 0 ? ((next() & 1) ? 127 : -127) : wmode == 1 ? -127 : range(-127, 127));
    }
    for (size_t c = 0; c < C; c++) {
        bias[c] = (int32_t)range(-50000, 50000);
        flotilla_q8_quantize_multiplier(1e-3 + uniform() * (next() % 4 == 0 ? 3.0 : 0.05), &mult[c], &shift[c]);
    }
    const flotilla_q8_type xt = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    const flotilla_q8_dwconv_params p = {
        .x_type = xt,
        .x_zero_point = next() % 4 == 0 ? (xt == FLOTILLA_Q8_U8 ? ((next() & 1) ? 0 : 255) : ((next() & 1) ? -128 : 127))
                        : xt == FLOTILLA_Q8_U8 ? (int32_t)range(0, 255) : (int32_t)range(-128, 127),
        .weights = w, .bias = (next() & 1) ? bias : NULL,
        .requant = {.multiplier = mult, .shift = shift, .per_channel = (next() & 1) != 0, .type = FLOTILLA_Q8_U8,
                    .zero_point = (int32_t)range(0, 255), .qmin = 0, .qmax = 255},
    };
    memset(yr, 0x5A, out + 1);
    memset(yt, 0x5A, out + 1);
    ref->dwconv(&g, &p, x, yr);
    t->dwconv(&g, &p, x, yt);
    char what[200];
    snprintf(what, sizeof what, "dwconv %s C=%zu %zux%zu k=%zux%zu s=%zu,%zu d=%zu,%zu", t->name, C, g.in_h, g.in_w,
             g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.dilation_h, g.dilation_w);
    check(memcmp(yr, yt, out + 1) == 0, what);
    dwconv_packed_check(t, &g, &p, x, yr, out, what);
    // im2col on the same geometry: bytes identical, padding = the zero point's byte.
    const size_t cols = C * taps * oh * ow;
    uint8_t *ir = xmalloc(cols), *it = xmalloc(cols);
    ref->im2col(&g, x, (uint8_t)p.x_zero_point, ir);
    t->im2col(&g, x, (uint8_t)p.x_zero_point, it);
    check(memcmp(ir, it, cols) == 0, "im2col");
    free(x), free(yr), free(yt), free(w), free(bias), free(mult), free(shift), free(ir), free(it);
}

typedef bool (*dw_cl_fn)(const flotilla_f32_conv2d_geometry *, const flotilla_q8_dwconv_params *, const void *, void *);
typedef void (*dw_planar_fn)(const flotilla_f32_conv2d_geometry *, const flotilla_q8_dwconv_params *, const void *, void *);

// The channels-last and planar depthwise halves of path `name` (NULL when the path has none here).
static void dw_halves(const char *name, dw_cl_fn *cl, dw_planar_fn *planar) {
    *cl = NULL, *planar = NULL;
#if defined(__x86_64__)
    if (strcmp(name, "avx2") == 0) *cl = flotilla_q8_dwconv_cl__avx2, *planar = flotilla_q8_dwconv_planar__avx2;
    if (strcmp(name, "avx512vnni") == 0) {
        *cl = flotilla_q8_dwconv_cl__avx512vnni, *planar = flotilla_q8_dwconv_planar__avx512vnni;
    }
#elif defined(__aarch64__)
    if (strcmp(name, "neon") == 0) *cl = flotilla_q8_dwconv_cl__neon, *planar = flotilla_q8_dwconv_planar__neon;
    if (strcmp(name, "neondot") == 0) *cl = flotilla_q8_dwconv_cl__neondot, *planar = flotilla_q8_dwconv_planar__neondot;
#endif
}

// Channels-last and planar depthwise called directly (whichever the entry point's rule would
// pick), and the entry point itself, against the reference: many channels (counts off every
// block size), small and mid planes, strides 1–2 (3), dilation 1–2, asymmetric padding, u8 and
// s8 in and out, per-tensor and per-channel requant, extreme zero points and multipliers, clamps.
static void dwconv_cl_case(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t) {
    static const size_t chans[] = {1, 3, 16, 17, 31, 32, 33, 48, 63, 64, 65, 96, 144, 336};
    dw_cl_fn cl;
    dw_planar_fn planar;
    dw_halves(t->name, &cl, &planar);
    flotilla_f32_conv2d_geometry g;
    do {
        // One in six: MobileNet's large planes (3×3, up to 56×56: several bands, rows of 16+
        // pixels transposed run by run).
        const bool large = next() % 6 == 0;
        const size_t k = large ? 3 : next() % 4 == 0 ? (size_t)range(1, 5) : 3;
        const size_t kw = large ? 3 : next() % 4 == 0 ? (size_t)range(1, 5) : k;
        const size_t side = large ? (size_t)range(16, 56) : next() % 3 == 0 ? (size_t)range(1, 30) : (size_t)range(1, 13);
        g = (flotilla_f32_conv2d_geometry){
            .channels = next() % 3 == 0 ? (size_t)range(1, 120) : chans[next() % (sizeof chans / sizeof chans[0])],
            .in_h = side, .in_w = next() % 3 == 0 ? (size_t)range(1, 30) : side,
            .kernel_h = k, .kernel_w = kw, .stride_h = (size_t)range(1, 2), .stride_w = (size_t)range(1, next() % 5 == 0 ? 3 : 2),
            .dilation_h = (size_t)range(1, 2), .dilation_w = (size_t)range(1, 2),
            .pad_top = (size_t)range(0, 2), .pad_left = (size_t)range(0, 2),
            .pad_bottom = (size_t)range(0, 2), .pad_right = (size_t)range(0, 2),
        };
    } while (flotilla_f32_conv2d_geometry_check(&g) != FLOTILLA_F32_GEOMETRY_OK);
    const size_t oh = flotilla_f32_conv2d_out_h(&g), ow = flotilla_f32_conv2d_out_w(&g), C = g.channels;
    const size_t taps = g.kernel_h * g.kernel_w, in = C * g.in_h * g.in_w, out = C * oh * ow;
    uint8_t *x = xmalloc(in), *yr = xmalloc(out + 1), *yt = xmalloc(out + 1);
    int8_t *w = xmalloc(C * taps);
    int32_t *bias = xmalloc(C * 4), *mult = xmalloc(C * 4), *shift = xmalloc(C * 4);
    fill_bytes(x, in, (int)(next() % 5));
    const int wmode = (int)(next() % 4);
    for (size_t i = 0; i < C * taps; i++) {
        w[i] = (int8_t)(wmode == 0 ? ((next() & 1) ? 127 : -127) : wmode == 1 ? -127 : range(-127, 127));
    }
    const int mode = (int)(next() % 3);  // typical, ≥ 1, mixed
    for (size_t c = 0; c < C; c++) {
        bias[c] = (next() % 8 == 0) ? (int32_t)range(-(1 << 24), 1 << 24) : (int32_t)range(-50000, 50000);
        const double real = mode == 0 ? 1e-4 + uniform() * 0.05 : mode == 1 ? 1.0 + uniform() * 100.0 : 1e-9 + uniform() * 3.0;
        flotilla_q8_quantize_multiplier(real, &mult[c], &shift[c]);
    }
    const flotilla_q8_type xt = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    const flotilla_q8_type ytype = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    const int32_t tmin = ytype == FLOTILLA_Q8_U8 ? 0 : -128, tmax = ytype == FLOTILLA_Q8_U8 ? 255 : 127;
    int32_t qmin = tmin, qmax = tmax;
    if (next() % 3 == 0) {
        qmin = (int32_t)range(tmin, tmax);
        qmax = (int32_t)range(qmin, tmax);
    }
    const flotilla_q8_dwconv_params p = {
        .x_type = xt,
        .x_zero_point = next() % 3 == 0 ? (xt == FLOTILLA_Q8_U8 ? ((next() & 1) ? 0 : 255) : ((next() & 1) ? -128 : 127))
                        : xt == FLOTILLA_Q8_U8 ? (int32_t)range(0, 255) : (int32_t)range(-128, 127),
        .weights = w, .bias = (next() & 1) ? bias : NULL,
        .requant = {.multiplier = mult, .shift = shift, .per_channel = (next() & 1) != 0, .type = ytype,
                    .zero_point = (int32_t)range(tmin, tmax), .qmin = qmin, .qmax = qmax},
    };
    memset(yr, 0x5A, out + 1);
    ref->dwconv(&g, &p, x, yr);
    char what[240];
    snprintf(what, sizeof what, "dwconv-cl %s C=%zu %zux%zu k=%zux%zu s=%zu,%zu d=%zu,%zu pad=%zu,%zu,%zu,%zu xt=%d yt=%d",
             t->name, C, g.in_h, g.in_w, g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.dilation_h, g.dilation_w,
             g.pad_top, g.pad_left, g.pad_bottom, g.pad_right, xt, ytype);
    memset(yt, 0x5A, out + 1);
    t->dwconv(&g, &p, x, yt);
    check(memcmp(yr, yt, out + 1) == 0, what);
    dwconv_packed_check(t, &g, &p, x, yr, out, what);
    if (planar != NULL) {
        memset(yt, 0x5A, out + 1);
        planar(&g, &p, x, yt);
        check(memcmp(yr, yt, out + 1) == 0, what);
    }
    if (cl != NULL) {
        memset(yt, 0x5A, out + 1);
        // Every geometry drawn here has a channels-last plan (small planes, ≤ 25 taps).
        check(cl(&g, &p, x, yt) && memcmp(yr, yt, out + 1) == 0, what);
    }
    free(x), free(yr), free(yt), free(w), free(bias), free(mult), free(shift);
}

static int32_t type_min(flotilla_q8_type t) { return t == FLOTILLA_Q8_U8 ? 0 : -128; }
static int32_t type_max(flotilla_q8_type t) { return t == FLOTILLA_Q8_U8 ? 255 : 127; }

// Add with requantization: random lengths (vector bodies and scalar tails), types, edge-valued
// bytes and zero points, scale ratios from 1/1000 to 1000, clamps.
static void add_case(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t) {
    const size_t n = next() % 4 == 0 ? (size_t)range(1, 40) : (size_t)range(1, 3000);
    const flotilla_q8_type at = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8, bt = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    const flotilla_q8_type yt = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    const int32_t tmin = type_min(yt), tmax = type_max(yt);
    int32_t za = (int32_t)range(type_min(at), type_max(at));
    int32_t zb = (int32_t)range(type_min(bt), type_max(bt));
    if (next() % 4 == 0) za = (next() & 1) ? type_min(at) : type_max(at);
    if (next() % 4 == 0) zb = (next() & 1) ? type_min(bt) : type_max(bt);
    const int32_t zy = (int32_t)range(tmin, tmax);
    const int32_t qmin = next() % 2 ? tmin : (int32_t)range(tmin, tmax);
    const int32_t qmax = next() % 2 ? tmax : (int32_t)range(qmin, tmax);
    const double sa = pow(10.0, uniform() * 6 - 3) * 0.01, sb = sa * pow(10.0, uniform() * 4 - 2);
    const double sy = (sa + sb) * pow(10.0, uniform() * 2 - 1);
    flotilla_q8_binary_params p;
    if (flotilla_q8_add_params_init(&p, at, sa, za, bt, sb, zb, yt, sy, zy, qmin, qmax) != FLOTILLA_Q8_OK) return;
    uint8_t *a = xmalloc(n), *b = xmalloc(n), *yr = xmalloc(n + 1), *yt_ = xmalloc(n + 1);
    fill_bytes(a, n, (int)(next() % 5));
    fill_bytes(b, n, (int)(next() % 5));
    memset(yr, 0x5A, n + 1);
    memset(yt_, 0x5A, n + 1);
    ref->add(n, a, b, yr, &p);
    t->add(n, a, b, yt_, &p);
    char what[160];
    snprintf(what, sizeof what, "add %s n=%zu at=%d bt=%d yt=%d", t->name, n, at, bt, yt);
    check(memcmp(yr, yt_, n + 1) == 0, what);
    free(a), free(b), free(yr), free(yt_);
}

// Average pooling: global (the optimized case: many channels, planes up to 16×16) and general
// windows (which the optimized paths hand to the reference), both count modes.
static void avgpool_case(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t) {
    flotilla_f32_conv2d_geometry g;
    const int global = (next() % 3) != 0;
    do {
        if (global) {
            const size_t h = (size_t)range(1, 16), w = (size_t)range(1, 16);
            g = (flotilla_f32_conv2d_geometry){.channels = (size_t)range(1, 600), .in_h = h, .in_w = w,
                                               .kernel_h = h, .kernel_w = w, .stride_h = 1, .stride_w = 1,
                                               .dilation_h = 1, .dilation_w = 1};
        } else {
            g = (flotilla_f32_conv2d_geometry){
                .channels = (size_t)range(1, 8), .in_h = (size_t)range(1, 12), .in_w = (size_t)range(1, 12),
                .kernel_h = (size_t)range(1, 3), .kernel_w = (size_t)range(1, 3), .stride_h = (size_t)range(1, 2),
                .stride_w = (size_t)range(1, 2), .dilation_h = 1, .dilation_w = 1, .pad_top = (size_t)range(0, 1),
                .pad_left = (size_t)range(0, 1), .pad_bottom = (size_t)range(0, 1), .pad_right = (size_t)range(0, 1)};
        }
    } while (flotilla_f32_conv2d_geometry_check(&g) != FLOTILLA_F32_GEOMETRY_OK);
    const size_t taps = g.kernel_h * g.kernel_w, oh = flotilla_f32_conv2d_out_h(&g), ow = flotilla_f32_conv2d_out_w(&g);
    const size_t in = g.channels * g.in_h * g.in_w, out = g.channels * oh * ow;
    const flotilla_q8_type xt = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    const int32_t tmin = type_min(xt), tmax = type_max(xt);
    int32_t *mult = xmalloc(taps * 4), *shift = xmalloc(taps * 4);
    const double sx = 0.02 * pow(10.0, uniform() * 2 - 1), sy = sx * pow(10.0, uniform() * 2 - 1);
    if (flotilla_q8_avgpool_multipliers(sx, sy, taps, mult, shift) != FLOTILLA_Q8_OK) {
        free(mult), free(shift);
        return;
    }
    const int32_t qmin = next() % 2 ? tmin : (int32_t)range(tmin, tmax);
    const flotilla_q8_avgpool_params p = {
        .type = xt, .x_zero_point = next() % 4 == 0 ? tmin : (int32_t)range(tmin, tmax),
        .y_zero_point = (int32_t)range(tmin, tmax), .count_include_pad = (next() & 1) != 0,
        .multiplier = mult, .shift = shift, .qmin = qmin, .qmax = next() % 2 ? tmax : (int32_t)range(qmin, tmax)};
    uint8_t *x = xmalloc(in), *yr = xmalloc(out + 1), *yt_ = xmalloc(out + 1);
    fill_bytes(x, in, (int)(next() % 5));
    memset(yr, 0x5A, out + 1);
    memset(yt_, 0x5A, out + 1);
    ref->avgpool(&g, &p, x, yr);
    t->avgpool(&g, &p, x, yt_);
    char what[160];
    snprintf(what, sizeof what, "avgpool %s C=%zu %zux%zu k=%zux%zu global=%d", t->name, g.channels, g.in_h, g.in_w,
             g.kernel_h, g.kernel_w, global);
    check(memcmp(yr, yt_, out + 1) == 0, what);
    free(mult), free(shift), free(x), free(yr), free(yt_);
}

// QuantizeLinear: exact ties (k + ½)·scale, NaN, ±∞, values near ±2²², denormals, wide and
// narrow scales, both output types, lengths with vector tails.
static void quantize_case(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t) {
    const size_t n = (size_t)range(1, 700);
    const flotilla_q8_type yt = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    const float scale = (float)(pow(10.0, uniform() * 8 - 6));
    const int32_t zp = (int32_t)range(type_min(yt), type_max(yt));
    float *x = xmalloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        switch (next() % 8) {
        case 0: x[i] = ((float)range(-300, 300) + 0.5f) * scale; break;  // ties (when exact)
        case 1: x[i] = (float)range(-300, 300) * scale; break;
        case 2: x[i] = (next() & 1) ? NAN : ((next() & 1) ? INFINITY : -INFINITY); break;
        case 3: x[i] = (float)((next() & 1) ? 1 : -1) * (4194304.0f + (float)range(-3, 3)) * scale; break;
        case 4: x[i] = (float)range(-1000, 1000) * 1e-42f; break;  // denormals
        default: x[i] = (float)((uniform() * 2 - 1) * 300.0 * scale); break;
        }
    }
    uint8_t *yr = xmalloc(n + 1), *yt_ = xmalloc(n + 1);
    memset(yr, 0x5A, n + 1);
    memset(yt_, 0x5A, n + 1);
    ref->quantize(n, x, scale, zp, type_min(yt), type_max(yt), yr);
    t->quantize(n, x, scale, zp, type_min(yt), type_max(yt), yt_);
    char what[120];
    snprintf(what, sizeof what, "quantize %s n=%zu scale=%g zp=%d", t->name, n, (double)scale, zp);
    check(memcmp(yr, yt_, n + 1) == 0, what);
    free(x), free(yr), free(yt_);
}

// Exact int32 GEMM (MatMulInteger, ConvInteger): random shapes incl. 1, odd and off-tile sizes,
// every signedness pair, zero points per row / per column / scalar / absent incl. the extremes,
// edge-valued bytes (0, 255, 0x80, 0x7F). Y must be identical, and bytes outside it untouched.
static void gemm_s32_case(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t, size_t M, size_t N, size_t K) {
    const flotilla_q8_type at = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8, bt = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    const size_t lda = K + (size_t)range(0, 3), ldb = N + (size_t)range(0, 3), ldy = N + (size_t)range(0, 3);
    uint8_t *A = xmalloc(M * lda), *B = xmalloc(K * ldb);
    static const uint8_t edges[] = {0, 255, 0x80, 0x7F};
    const int apat = (int)(next() % 6), bpat = (int)(next() % 6);
    for (size_t i = 0; i < M * lda; i++) A[i] = apat < 4 ? edges[apat] : apat == 4 ? edges[next() % 4] : (uint8_t)next();
    for (size_t i = 0; i < K * ldb; i++) B[i] = bpat < 4 ? edges[bpat] : bpat == 4 ? edges[next() % 4] : (uint8_t)next();
    int32_t *za = xmalloc((M + 1) * 4), *zb = xmalloc((N + 1) * 4);
    const int zmode = (int)(next() % 4);  // 0: random, 1: type min, 2: type max, 3: mixed extremes
    for (size_t m = 0; m < M + 1; m++) {
        za[m] = zmode == 1 ? type_min(at) : zmode == 2 ? type_max(at) : zmode == 3 ? ((next() & 1) ? type_min(at) : type_max(at))
                : (int32_t)range(type_min(at), type_max(at));
    }
    for (size_t n = 0; n < N + 1; n++) {
        zb[n] = zmode == 1 ? type_max(bt) : zmode == 2 ? type_min(bt) : zmode == 3 ? ((next() & 1) ? type_min(bt) : type_max(bt))
                : (int32_t)range(type_min(bt), type_max(bt));
    }
    const int zsel = (int)(next() % 3);  // 0: per row/column, 1: scalar, 2: absent
    const flotilla_q8_gemm_s32_b_params bp = {.K = K, .N = N, .b_type = bt, .b_zero_point = zsel == 2 ? NULL : zb,
                                              .per_column = zsel == 0};
    const flotilla_q8_gemm_s32_a_params ap = {.a_type = at, .a_zero_point = zsel == 2 ? NULL : za, .per_row = (next() & 1) != 0};
    void *pr = xmalloc(ref->gemm_s32_pack_size(K, N)), *pt = xmalloc(t->gemm_s32_pack_size(K, N));
    void *wr = xmalloc(ref->gemm_s32_workspace_size(M, K)), *wt = xmalloc(t->gemm_s32_workspace_size(M, K));
    int32_t *yr = xmalloc(M * ldy * 4 + 4), *yt_ = xmalloc(M * ldy * 4 + 4);
    memset(yr, 0xA5, M * ldy * 4 + 4);
    memset(yt_, 0xA5, M * ldy * 4 + 4);
    int ok = ref->gemm_s32_pack(&bp, B, ldb, pr) == FLOTILLA_Q8_OK && t->gemm_s32_pack(&bp, B, ldb, pt) == FLOTILLA_Q8_OK;
    ok = ok && ref->gemm_s32(M, N, K, A, lda, &ap, pr, yr, ldy, wr) == FLOTILLA_Q8_OK;
    ok = ok && t->gemm_s32(M, N, K, A, lda, &ap, pt, yt_, ldy, wt) == FLOTILLA_Q8_OK;
    char what[200];
    snprintf(what, sizeof what, "gemm_s32 %s M=%zu N=%zu K=%zu at=%d bt=%d zmode=%d zsel=%d", t->name, M, N, K, at, bt, zmode, zsel);
    check(ok && memcmp(yr, yt_, M * ldy * 4 + 4) == 0, what);
    check(t->gemm_s32(M, N, K, A, lda, &ap, pr, yt_, ldy, wt) == FLOTILLA_Q8_PACK_MISMATCH, "gemm_s32 foreign pack refused");
    free(A), free(B), free(za), free(zb), free(pr), free(pt), free(wr), free(wt), free(yr), free(yt_);
}

// The largest sums wrap modulo 2³² exactly as the reference's (K = 40000: 40000·255² > 2³¹).
static void gemm_s32_wrap_case(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t) {
    const size_t M = 3, N = 5, K = 40000;
    uint8_t *A = xmalloc(M * K), *B = xmalloc(K * N);
    memset(A, 255, M * K);
    memset(B, 0, K * N);
    const int32_t za = 0, zb = 255;
    const flotilla_q8_gemm_s32_b_params bp = {.K = K, .N = N, .b_type = FLOTILLA_Q8_U8, .b_zero_point = &zb};
    const flotilla_q8_gemm_s32_a_params ap = {.a_type = FLOTILLA_Q8_U8, .a_zero_point = &za};
    void *pr = xmalloc(ref->gemm_s32_pack_size(K, N)), *pt = xmalloc(t->gemm_s32_pack_size(K, N));
    void *wr = xmalloc(ref->gemm_s32_workspace_size(M, K)), *wt = xmalloc(t->gemm_s32_workspace_size(M, K));
    int32_t yr[15], yt_[15];
    int ok = ref->gemm_s32_pack(&bp, B, N, pr) == FLOTILLA_Q8_OK && t->gemm_s32_pack(&bp, B, N, pt) == FLOTILLA_Q8_OK;
    ok = ok && ref->gemm_s32(M, N, K, A, K, &ap, pr, yr, N, wr) == FLOTILLA_Q8_OK;
    ok = ok && t->gemm_s32(M, N, K, A, K, &ap, pt, yt_, N, wt) == FLOTILLA_Q8_OK;
    const int32_t expect = (int32_t)(uint32_t)(40000ull * 255u * (uint32_t)-255);
    check(ok && yr[0] == expect && memcmp(yr, yt_, sizeof yr) == 0, "gemm_s32 wrap-around");
    free(A), free(B), free(pr), free(pt), free(wr), free(wt);
}

// Max pooling: random small geometries (strides 1–3, dilation, padding up to ≥ kernel so some
// windows are all padding), MNIST-sized planes, global windows, both types, edge bytes.
static void maxpool_case(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t) {
    flotilla_f32_conv2d_geometry g;
    const int kind = (int)(next() % 4);
    do {
        if (kind == 0) {
            const size_t h = (size_t)range(1, 20), w = (size_t)range(1, 40);
            g = (flotilla_f32_conv2d_geometry){.channels = (size_t)range(1, 40), .in_h = h, .in_w = w, .kernel_h = h,
                                               .kernel_w = w, .stride_h = 1, .stride_w = 1, .dilation_h = 1, .dilation_w = 1};
        } else {
            const size_t k = (size_t)range(1, 4);
            g = (flotilla_f32_conv2d_geometry){
                .channels = (size_t)range(1, 6), .in_h = (size_t)range(1, kind == 1 ? 60 : 30),
                .in_w = (size_t)range(1, kind == 1 ? 70 : 30), .kernel_h = k,
                .kernel_w = next() % 3 == 0 ? (size_t)range(1, 4) : k, .stride_h = (size_t)range(1, 3),
                .stride_w = next() % 4 == 0 ? 3 : (size_t)range(1, 2), .dilation_h = (size_t)range(1, 2),
                .dilation_w = next() % 3 == 0 ? 2 : 1, .pad_top = (size_t)range(0, 3), .pad_left = (size_t)range(0, 3),
                .pad_bottom = (size_t)range(0, 3), .pad_right = (size_t)range(0, 3)};
        }
    } while (flotilla_f32_conv2d_geometry_check(&g) != FLOTILLA_F32_GEOMETRY_OK);
    const size_t oh = flotilla_f32_conv2d_out_h(&g), ow = flotilla_f32_conv2d_out_w(&g);
    const size_t in = g.channels * g.in_h * g.in_w, out = g.channels * oh * ow;
    const flotilla_q8_type xt = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    uint8_t *x = xmalloc(in), *yr = xmalloc(out + 1), *yt_ = xmalloc(out + 1);
    fill_bytes(x, in, (int)(next() % 5));
    memset(yr, 0x5A, out + 1);
    memset(yt_, 0x5A, out + 1);
    ref->maxpool(&g, xt, x, yr);
    t->maxpool(&g, xt, x, yt_);
    char what[200];
    snprintf(what, sizeof what, "maxpool %s C=%zu %zux%zu k=%zux%zu s=%zu,%zu d=%zu,%zu t=%d", t->name, g.channels,
             g.in_h, g.in_w, g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.dilation_h, g.dilation_w, xt);
    check(memcmp(yr, yt_, out + 1) == 0, what);
    free(x), free(yr), free(yt_);
}

// Add with hand-made operand rescales: every operand shift in [-12, 31] (the x86 paths' 32-bit
// operand form splits at s = n - 20 <= 16 and keeps the 64-bit form below n = 21), multipliers
// at both ends of [2^30, 2^31) and 0, extreme zero points.
static void add_shift_sweep(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t) {
    for (int32_t sh = -12; sh <= 31; sh++) {
        static const int32_t mults[] = {0, 1 << 30, 0x7FFFFFFF, 1518500250};
        flotilla_q8_binary_params p = {0};
        p.a_type = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
        p.b_type = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
        p.y_type = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
        p.a_zero_point = (next() & 1) ? type_min(p.a_type) : type_max(p.a_type);
        p.b_zero_point = (int32_t)range(type_min(p.b_type), type_max(p.b_type));
        p.y_zero_point = (int32_t)range(type_min(p.y_type), type_max(p.y_type));
        p.a_multiplier = mults[next() % 4], p.a_shift = sh;
        p.b_multiplier = mults[next() % 4], p.b_shift = (int32_t)range(-12, 31);
        p.y_multiplier = (int32_t)range(1 << 30, 0x7FFFFFFF), p.y_shift = (int32_t)range(-5, 31);
        p.qmin = type_min(p.y_type), p.qmax = type_max(p.y_type);
        const size_t n = (size_t)range(1, 300);
        uint8_t *a = xmalloc(n), *b = xmalloc(n), *yr = xmalloc(n), *yt_ = xmalloc(n);
        fill_bytes(a, n, (int)(next() % 5));
        fill_bytes(b, n, (int)(next() % 5));
        ref->add(n, a, b, yr, &p);
        t->add(n, a, b, yt_, &p);
        char what[160];
        snprintf(what, sizeof what, "add shift sweep %s a_shift=%d b_shift=%d", t->name, p.a_shift, p.b_shift);
        check(memcmp(yr, yt_, n) == 0, what);
        free(a), free(b), free(yr), free(yt_);
    }
}

// The table's banded small-Cin conv against the reference im2col + reference GEMM: random
// geometries (channels 1-8, kernels 1-5 x 1-7, strides 1-3, dilation 1-2, pads 0-3, wide rows),
// u8 and s8 inputs, every requant mode; the image is allocated at exactly its size. Paths
// without a `conv` (all but avx512vnni) skip it.
static void conv_small_case(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t) {
    if (t->conv == NULL || t->conv_workspace_size == NULL) return;  // the path keeps im2col + gemm
    static const int32_t zp_u8[] = {0, 1, 127, 128, 255}, zp_s8[] = {-128, 0, 127};
    static const size_t widths[] = {1, 2, 5, 17, 33, 48, 64, 65, 96, 130, 300};
    flotilla_f32_conv2d_geometry g = {
        .channels = (size_t)range(1, 8), .in_h = (size_t)range(1, 30), .in_w = widths[next() % 11],
        .kernel_h = (size_t)range(1, 5), .kernel_w = (size_t)range(1, 7), .stride_h = (size_t)range(1, 3),
        .stride_w = (size_t)range(1, 3), .dilation_h = (size_t)range(1, 2), .dilation_w = (size_t)range(1, 2),
        .pad_top = (size_t)range(0, 3), .pad_left = (size_t)range(0, 3), .pad_bottom = (size_t)range(0, 3),
        .pad_right = (size_t)range(0, 3)};
    if (next() % 4 == 0) {  // the MobileNet stem
        g = (flotilla_f32_conv2d_geometry){3, 96, 96, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1};
    }
    if (flotilla_f32_conv2d_geometry_check(&g) != FLOTILLA_F32_GEOMETRY_OK) return;
    const size_t N = flotilla_f32_conv2d_out_h(&g) * flotilla_f32_conv2d_out_w(&g);
    const size_t K = g.channels * g.kernel_h * g.kernel_w, M = (size_t)range(1, 40), ldc = N + (size_t)range(0, 3);
    const flotilla_q8_type xt = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    const flotilla_q8_type yt = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    const int32_t zx = xt == FLOTILLA_Q8_U8 ? zp_u8[next() % 5] : zp_s8[next() % 3];
    const int32_t zy = yt == FLOTILLA_Q8_U8 ? zp_u8[next() % 5] : zp_s8[next() % 3];
    const size_t in_bytes = g.channels * g.in_h * g.in_w;
    uint8_t *x = xmalloc(in_bytes), *cols = xmalloc(K * N);
    int8_t *W = xmalloc(M * K);
    int32_t *bias = xmalloc(M * sizeof(int32_t)), *mult = xmalloc(M * sizeof(int32_t)), *shift = xmalloc(M * sizeof(int32_t));
    fill_bytes(x, in_bytes, (int)(next() % 4));
    for (size_t i = 0; i < M * K; i++) W[i] = (int8_t)range(-127, 127);
    const int mode = (int)(next() % 4);
    for (size_t m = 0; m < M; m++) {
        bias[m] = (int32_t)range(-100000, 100000);
        double real = mode == 0 ? 1e-4 + uniform() * 1e-2 : mode == 1 ? 1.0 + uniform() * 200.0
                      : mode == 2 ? 1e-11 * (1 + uniform()) : (1e-9 + uniform() * 4.0);
        if (flotilla_q8_quantize_multiplier(real, &mult[m], &shift[m]) != FLOTILLA_Q8_OK) mult[m] = 0, shift[m] = 0;
    }
    const flotilla_q8_requant rq = {.multiplier = mult, .shift = shift, .per_channel = (next() & 1) != 0,
                                    .type = yt, .zero_point = zy, .qmin = yt == FLOTILLA_Q8_U8 ? 0 : -128,
                                    .qmax = yt == FLOTILLA_Q8_U8 ? 255 : 127};
    const flotilla_q8_gemm_pack_params pp = {.M = M, .K = K, .x_type = xt, .x_zero_point = zx, .seven_bit = false};
    void *pr = xmalloc(ref->gemm_pack_size(M, K)), *pt = xmalloc(t->gemm_pack_size(M, K));
    uint8_t *cr = xmalloc(M * ldc), *ct = xmalloc(M * ldc);
    memset(cr, 0xA5, M * ldc);
    memset(ct, 0xA5, M * ldc);
    void *wr = xmalloc(ref->gemm_workspace_size(N, K)), *wt = xmalloc(t->conv_workspace_size(&g));
    ref->im2col(&g, x, (uint8_t)zx, cols);
    int ok = ref->gemm_pack(&pp, W, K, bias, pr) == FLOTILLA_Q8_OK && t->gemm_pack(&pp, W, K, bias, pt) == FLOTILLA_Q8_OK;
    ok = ok && ref->gemm(M, N, K, pr, cols, N, &rq, cr, ldc, wr) == FLOTILLA_Q8_OK;
    ok = ok && t->conv(&g, M, pt, x, &rq, ct, ldc, wt) == FLOTILLA_Q8_OK;
    char what[200];
    snprintf(what, sizeof what, "conv %s C=%zu %zux%zu k%zux%zu s%zu/%zu d%zu/%zu M=%zu xt=%d zx=%d", t->name, g.channels,
             g.in_h, g.in_w, g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.dilation_h, g.dilation_w, M, xt, zx);
    check(ok && memcmp(cr, ct, M * ldc) == 0, what);
    free(x), free(cols), free(W), free(bias), free(mult), free(shift), free(pr), free(pt), free(cr), free(ct), free(wr),
        free(wt);
}

// ---- Channels-last GEMM (gemm_nhwc) ---------------------------------------------------------
// Every path with a gemm_nhwc against the reference's: A (N×K, row stride lda ≥ K) ends right
// at a PROT_NONE page, so a read past A + (N−1)·lda + K faults; C (N×M, ldc ≥ M) is prefilled
// and compared whole, so a byte written between M and ldc (or past the last row) differs.
static unsigned long nhwc_cases;

typedef struct guarded_buffer {
    uint8_t *base;
    size_t len;
} guarded_buffer;

static uint8_t *guarded_alloc(size_t n, guarded_buffer *g) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), body = (n + page - 1) / page * page;
    g->len = body + page;
    g->base = mmap(NULL, g->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g->base == MAP_FAILED || mprotect(g->base + body, page, PROT_NONE) != 0) {
        fprintf(stderr, "guard page mapping failed (%zu bytes)\n", n);
        exit(3);
    }
    return g->base + body - n;
}

// kind 0: random shapes' data (edge patterns, narrowed clamps, typical/≥ 1/tiny/mixed real
// multipliers); 1: per-channel shifts over all of [-30, 31] with multipliers 0, 2^30, 2^31 − 1
// and random; 3: the same with every shift in [1, 31] (ARM's 32-bit requant form); 2: extreme
// accumulators (rows of all ±127 against the top activation byte with the lowest zero point,
// biases ±2^30) with kind 1's or kind 3's requant.
static void gemm_nhwc_case(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t, size_t M, size_t N,
                           size_t K, int kind) {
    if (t->gemm_nhwc == NULL || t->gemm_nhwc_workspace_size == NULL) return;  // the planner keeps NCHW
    static const int32_t zp_u8[] = {0, 1, 127, 128, 255}, zp_s8[] = {-128, -1, 0, 127};
    static const char *const packers[] = {"reference", "avx2", "avx512vnni", "neon", "neondot"};
    const flotilla_q8_type xt = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    const flotilla_q8_type yt = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    int32_t zx = next() % 3 == 0 ? (int32_t)range(type_min(xt), type_max(xt))
                 : xt == FLOTILLA_Q8_U8 ? zp_u8[next() % 5] : zp_s8[next() % 4];
    if (kind == 2) zx = type_min(xt);
    const int32_t zy = next() % 3 == 0 ? (int32_t)range(type_min(yt), type_max(yt))
                       : yt == FLOTILLA_Q8_U8 ? zp_u8[next() % 5] : zp_s8[next() % 4];
    const bool seven = kind == 0 && next() % 4 == 0;
    const int32_t wmax = seven ? 63 : 127;
    const size_t lda = K + (next() % 3 == 0 ? (size_t)range(1, 9) : 0);
    const size_t ldc = M + (next() % 3 == 0 ? (size_t)range(1, 7) : 0);
    const size_t a_bytes = N > 0 ? (N - 1) * lda + K : 0, c_bytes = N * ldc + 16;
    guarded_buffer ga;
    uint8_t *A = guarded_alloc(a_bytes, &ga);
    int8_t *W = xmalloc(M * K);
    int32_t *bias = xmalloc(M * 4), *mult = xmalloc(M * 4), *shift = xmalloc(M * 4);
    const int wpat = (int)(next() % 6), apat = (int)(next() % 6);
    for (size_t m = 0; m < M; m++) {
        for (size_t k = 0; k < K; k++) {
            W[m * K + k] = kind == 2 ? (int8_t)((m & 1) ? 127 : -127)
                           : wpat == 0 ? 0 : wpat == 1 ? (int8_t)wmax : wpat == 2 ? (int8_t)-wmax
                                                                      : (int8_t)range(-wmax, wmax);
        }
    }
    if (kind == 2) {
        memset(A, xt == FLOTILLA_Q8_U8 ? 255 : 127, a_bytes);
    } else {
        fill_bytes(A, a_bytes, apat > 3 ? 3 : apat);
    }
    const int mode = (int)(next() % 4);  // kind 0: typical, >= 1, tiny, mixed
    const bool q31_only = kind == 3 || (kind == 2 && (next() & 1));  // every shift in [1, 31]
    for (size_t m = 0; m < M; m++) {
        if (kind == 0) {
            bias[m] = (next() % 8 == 0) ? (int32_t)range(-(1 << 30), 1 << 30) : (int32_t)range(-100000, 100000);
            const double real = mode == 0 ? 1e-4 + uniform() * 1e-2 : mode == 1 ? 1.0 + uniform() * 200.0
                                : mode == 2 ? 1e-11 * (1 + uniform()) : (1e-9 + uniform() * 4.0);
            if (flotilla_q8_quantize_multiplier(real, &mult[m], &shift[m]) != FLOTILLA_Q8_OK) mult[m] = 0, shift[m] = 0;
        } else {
            bias[m] = kind == 2 ? ((m & 1) ? (1 << 30) : -(1 << 30)) : (int32_t)range(-(1 << 30), 1 << 30);
            shift[m] = q31_only ? (int32_t)((m + next() % 31) % 31) + 1 : (int32_t)((m + next() % 62) % 62) - 30;
            const int k = (int)(next() % 4);
            mult[m] = k == 0 ? (int32_t)(1u << 30) : k == 1 ? INT32_MAX : k == 2 ? (int32_t)range(1 << 30, INT32_MAX) : 0;
            if (mult[m] == 0) shift[m] = 0;
        }
    }
    int32_t qmin = type_min(yt), qmax = type_max(yt);
    if (next() % 3 == 0) {
        qmin = (int32_t)range(type_min(yt), type_max(yt));
        qmax = (int32_t)range(qmin, type_max(yt));
    }
    const flotilla_q8_requant rq = {.multiplier = mult, .shift = shift, .per_channel = kind != 0 || (next() & 1) != 0,
                                    .type = yt, .zero_point = zy, .qmin = qmin, .qmax = qmax};
    const flotilla_q8_gemm_pack_params pp = {.M = M, .K = K, .x_type = xt, .x_zero_point = zx, .seven_bit = seven};
    void *pr = xmalloc(ref->gemm_pack_size(M, K)), *pt = xmalloc(t->gemm_pack_size(M, K));
    uint8_t *cr = xmalloc(c_bytes), *ct = xmalloc(c_bytes);
    memset(cr, 0xA5, c_bytes);
    memset(ct, 0xA5, c_bytes);
    void *wr = xmalloc(ref->gemm_nhwc_workspace_size(N, K)), *wt = xmalloc(t->gemm_nhwc_workspace_size(N, K));
    char what[220];
    snprintf(what, sizeof what, "gemm_nhwc %s M=%zu N=%zu K=%zu lda=%zu ldc=%zu xt=%d zx=%d yt=%d zy=%d kind=%d mode=%d",
             t->name, M, N, K, lda, ldc, xt, zx, yt, zy, kind, mode);
    int ok = ref->gemm_pack(&pp, W, K, bias, pr) == FLOTILLA_Q8_OK && t->gemm_pack(&pp, W, K, bias, pt) == FLOTILLA_Q8_OK;
    ok = ok && ref->gemm_nhwc(M, N, K, pr, A, lda, &rq, cr, ldc, wr) == FLOTILLA_Q8_OK;
    ok = ok && t->gemm_nhwc(M, N, K, pt, A, lda, &rq, ct, ldc, wt) == FLOTILLA_Q8_OK;
    check(ok && memcmp(cr, ct, c_bytes) == 0, what);
    // Another path's pack (or this path's for another M or K) is refused with C untouched.
    uint8_t *before = xmalloc(c_bytes);
    memcpy(before, ct, c_bytes);
    const char *other = packers[next() % 5];
    if (strcmp(other, t->name) == 0) other = "reference";
    const flotilla_q8_gemm_packer *op = flotilla_q8_gemm_packer_named(other);
    void *po = xmalloc(op->gemm_pack_size(M, K));
    ok = op->gemm_pack(&pp, W, K, bias, po) == FLOTILLA_Q8_OK;
    ok = ok && t->gemm_nhwc(M, N, K, po, A, lda, &rq, ct, ldc, wt) == FLOTILLA_Q8_PACK_MISMATCH;
    ok = ok && t->gemm_nhwc(M + 1, N, K, pt, A, lda, &rq, ct, ldc, wt) == FLOTILLA_Q8_PACK_MISMATCH;
    ok = ok && t->gemm_nhwc(M, N, K + 1, pt, A, lda, &rq, ct, ldc, wt) == FLOTILLA_Q8_PACK_MISMATCH;
    snprintf(what, sizeof what, "gemm_nhwc %s refuses a %s pack, C untouched (M=%zu K=%zu)", t->name, other, M, K);
    check(ok && memcmp(before, ct, c_bytes) == 0, what);
    nhwc_cases++;
    munmap(ga.base, ga.len);
    free(W), free(bias), free(mult), free(shift), free(pr), free(pt), free(po), free(cr), free(ct), free(before), free(wr),
        free(wt);
}

static void gemm_nhwc_cases(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t) {
    // Every M × N pair with a K drawn from the set (N = 1, M off the 4- and 16-channel grids),
    // then every K with a random M, N.
    for (size_t i = 0; i < NDIMS; i++) {
        for (size_t j = 0; j < NDIMS; j++) gemm_nhwc_case(ref, t, dims[i], dims[j], dims[next() % NDIMS], 0);
    }
    for (size_t i = 0; i < NDIMS; i++) gemm_nhwc_case(ref, t, dims[next() % NDIMS], dims[next() % NDIMS], dims[i], 0);
    // Every K remainder of the 16-, 8- and 4-k steps, below and above one step.
    for (size_t K = 1; K <= 40; K++) gemm_nhwc_case(ref, t, (size_t)range(1, 40), (size_t)range(1, 20), K, 0);
    static const size_t tk[] = {47, 56, 57, 63, 100, 112, 146, 1001};
    for (size_t i = 0; i < sizeof tk / sizeof tk[0]; i++) gemm_nhwc_case(ref, t, (size_t)range(1, 70), (size_t)range(1, 12), tk[i], 0);
    // The MobileNetV2-shaped fixture's 1×1 convs (M × N × K = Cout × pixels × Cin).
    static const size_t model[][3] = {{48, 2304, 8}, {8, 2304, 16}, {48, 576, 8},   {8, 576, 48},  {96, 144, 16},
                                      {16, 144, 96}, {192, 36, 32}, {32, 36, 192},  {144, 36, 24}, {24, 36, 144},
                                      {336, 9, 56},  {56, 9, 336},  {112, 9, 336},  {1280, 9, 112}};
    for (size_t i = 0; i < sizeof model / sizeof model[0]; i++) gemm_nhwc_case(ref, t, model[i][0], model[i][1], model[i][2], 0);
    // Per-channel shifts over the whole range, at low K on and off the quad grid, across full
    // channel blocks and tails; then accumulators at the int32 ends (K = 32768).
    static const size_t sk[] = {1, 3, 4, 5, 8, 12, 16, 27, 33};
    static const size_t sn[] = {1, 5, 9, 36};
    for (size_t i = 0; i < sizeof sk / sizeof sk[0]; i++) {
        for (size_t j = 0; j < sizeof sn / sizeof sn[0]; j++) {
            gemm_nhwc_case(ref, t, 62 + i % 3, sn[j], sk[i], 1);
            gemm_nhwc_case(ref, t, 31 + i % 3, sn[j], sk[i], 3);
        }
    }
    gemm_nhwc_case(ref, t, 62, 5, 32768, 2);
    gemm_nhwc_case(ref, t, 9, 3, 32768, 2);
    gemm_nhwc_case(ref, t, 17, 9, 32765, 2);
    gemm_nhwc_case(ref, t, 33, 4, 32768, 2);
    gemm_nhwc_case(ref, t, 16, 8, 32767, 2);
    gemm_nhwc_case(ref, t, 7, 0, 5, 0);  // N = 0: OK, nothing read or written
}

// ---- Channels-last (NHWC) depthwise and byte transposes (session 6) -------------------------

// dwconv_nhwc on `t` (NULL pack, and its own plan-time pack read with zeroed weights/bias)
// against the reference NHWC twin, which must itself equal the NCHW reference on transposed
// data. Kernels 1×1…5×5 and 3×1, strides 1–3, pads up to and past the kernel (asymmetric),
// dilation 1–2, planes 1…50, channel counts on and off every block size.
// `fixed`: that geometry instead of a random one.
static void dwconv_nhwc_case(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t,
                             const flotilla_f32_conv2d_geometry *fixed) {
    static const size_t chans[] = {1, 2, 3, 8, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64, 65, 96, 129, 144, 192, 200};
    flotilla_f32_conv2d_geometry g;
    do {
        if (fixed != NULL) {
            g = *fixed;
            break;
        }
        const int shape = (int)(next() % 6);
        const size_t kh = shape == 0 ? 3 : shape == 1 ? (size_t)range(1, 5) : 3;
        const size_t kw = shape == 0 ? 1 : shape == 1 ? (size_t)range(1, 5) : 3;
        const size_t side = next() % 4 == 0 ? (size_t)range(16, 50) : (size_t)range(1, 14);
        g = (flotilla_f32_conv2d_geometry){
            .channels = next() % 3 == 0 ? (size_t)range(1, 200) : chans[next() % (sizeof chans / sizeof chans[0])],
            .in_h = side, .in_w = next() % 3 == 0 ? (size_t)range(1, 50) : side,
            .kernel_h = kh, .kernel_w = kw, .stride_h = (size_t)range(1, 3), .stride_w = (size_t)range(1, 3),
            .dilation_h = (size_t)range(1, 2), .dilation_w = (size_t)range(1, 2),
            .pad_top = (size_t)range(0, next() % 5 == 0 ? 6 : 2), .pad_left = (size_t)range(0, next() % 5 == 0 ? 6 : 2),
            .pad_bottom = (size_t)range(0, 2), .pad_right = (size_t)range(0, next() % 5 == 0 ? 6 : 2),
        };
    } while (flotilla_f32_conv2d_geometry_check(&g) != FLOTILLA_F32_GEOMETRY_OK);
    const size_t oh = flotilla_f32_conv2d_out_h(&g), ow = flotilla_f32_conv2d_out_w(&g), C = g.channels;
    const size_t hw = g.in_h * g.in_w, taps = g.kernel_h * g.kernel_w, in = C * hw, out = C * oh * ow;
    uint8_t *x = xmalloc(in), *xc = xmalloc(in), *yr = xmalloc(out + 1), *yt = xmalloc(out + 1);
    uint8_t *yc = xmalloc(out), *yn = xmalloc(out + 1);
    int8_t *w = xmalloc(C * taps);
    int32_t *bias = xmalloc(C * 4), *mult = xmalloc(C * 4), *shift = xmalloc(C * 4);
    fill_bytes(x, in, (int)(next() % 5));
    const int wmode = (int)(next() % 4);
    for (size_t i = 0; i < C * taps; i++) {
        w[i] = (int8_t)(wmode == 0 ? ((next() & 1) ? 127 : -127) : wmode == 1 ? -127 : range(-127, 127));
    }
    const int mode = (int)(next() % 4);  // typical, ≥ 1 (shift < 2), mixed, tiny
    for (size_t c = 0; c < C; c++) {
        bias[c] = (next() % 8 == 0) ? (int32_t)range(-(1 << 24), 1 << 24) : (int32_t)range(-50000, 50000);
        const double real = mode == 0 ? 1e-4 + uniform() * 0.05 : mode == 1 ? 1.0 + uniform() * 100.0
                            : mode == 2 ? 1e-9 + uniform() * 3.0 : 1e-9 + uniform() * 1e-6;
        flotilla_q8_quantize_multiplier(real, &mult[c], &shift[c]);
    }
    const flotilla_q8_type xt = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    const flotilla_q8_type ytype = (next() & 1) ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8;
    const int32_t tmin = ytype == FLOTILLA_Q8_U8 ? 0 : -128, tmax = ytype == FLOTILLA_Q8_U8 ? 255 : 127;
    int32_t qmin = tmin, qmax = tmax;
    if (next() % 3 == 0) {
        qmin = (int32_t)range(tmin, tmax);
        qmax = (int32_t)range(qmin, tmax);
    }
    flotilla_q8_dwconv_params p = {
        .x_type = xt,
        .x_zero_point = next() % 3 == 0 ? (xt == FLOTILLA_Q8_U8 ? ((next() & 1) ? 0 : 255) : ((next() & 1) ? -128 : 127))
                        : xt == FLOTILLA_Q8_U8 ? (int32_t)range(0, 255) : (int32_t)range(-128, 127),
        .weights = w, .bias = (next() & 1) ? bias : NULL,
        .requant = {.multiplier = mult, .shift = shift, .per_channel = (next() & 1) != 0, .type = ytype,
                    .zero_point = (int32_t)range(tmin, tmax), .qmin = qmin, .qmax = qmax},
    };
    char what[240];
    snprintf(what, sizeof what, "dwconv-nhwc %s C=%zu %zux%zu k=%zux%zu s=%zu,%zu d=%zu,%zu pad=%zu,%zu,%zu,%zu xt=%d yt=%d",
             t->name, C, g.in_h, g.in_w, g.kernel_h, g.kernel_w, g.stride_h, g.stride_w, g.dilation_h, g.dilation_w,
             g.pad_top, g.pad_left, g.pad_bottom, g.pad_right, xt, ytype);
    // The NHWC reference is the NCHW reference on transposed data.
    memset(yr, 0x5A, out + 1);
    check(ref->dwconv_nhwc(&g, &p, NULL, x, yr) == FLOTILLA_Q8_OK && yr[out] == 0x5A, what);
    flotilla_q8_transpose8__ref(hw, C, x, C, xc, hw);
    ref->dwconv(&g, &p, xc, yc);
    flotilla_q8_transpose8__ref(C, oh * ow, yc, oh * ow, yn, C);
    check(memcmp(yr, yn, out) == 0, what);
    memset(yt, 0x5A, out + 1);
    check(t->dwconv_nhwc(&g, &p, NULL, x, yt) == FLOTILLA_Q8_OK && memcmp(yr, yt, out + 1) == 0, what);
    const size_t size = t->dwconv_nhwc_pack_size(&g);
    if (size > 0) {
        void *packed = aligned_alloc(64, (size + 63) / 64 * 64);
        int8_t *w0 = calloc(C * taps, 1);
        int32_t *b0 = calloc(C, 4);
        if (packed == NULL || w0 == NULL || b0 == NULL) abort();
        check(t->dwconv_nhwc_pack(&g, &p, packed) == FLOTILLA_Q8_OK, what);
        flotilla_q8_dwconv_params q = p;
        q.weights = w0;
        q.bias = p.bias != NULL ? b0 : NULL;
        memset(yt, 0x5A, out + 1);
        check(t->dwconv_nhwc(&g, &q, packed, x, yt) == FLOTILLA_Q8_OK && memcmp(yr, yt, out + 1) == 0, what);
        // Another zero point, another channel count, the NCHW entry: refused, nothing written.
        q.x_zero_point = p.x_zero_point == 0 ? 1 : p.x_zero_point - 1;
        memset(yt, 0x5A, out + 1);
        check(t->dwconv_nhwc(&g, &q, packed, x, yt) == FLOTILLA_Q8_PACK_MISMATCH && yt[0] == 0x5A && yt[out] == 0x5A, what);
        if (C > 1) {
            flotilla_f32_conv2d_geometry h = g;
            h.channels = C - 1;
            check(t->dwconv_nhwc(&h, &p, packed, x, yt) == FLOTILLA_Q8_PACK_MISMATCH && yt[0] == 0x5A, what);
        }
        check(t->dwconv_packed(&g, &p, packed, x, yt) == FLOTILLA_Q8_PACK_MISMATCH && yt[0] == 0x5A, what);
        dw_packed_cases++;
        free(packed), free(w0), free(b0);
    } else {
        check(t->dwconv_nhwc_pack(&g, &p, yt) != FLOTILLA_Q8_OK, what);
    }
    free(x), free(xc), free(yr), free(yt), free(yc), free(yn), free(w), free(bias), free(mult), free(shift);
}

// transpose8 against the reference on random shapes (1×n, n×1, 15/16/17/33/64/65 and the
// MobileNet edges 16 × 2304, 1280 × 9), strides past the width, guard bytes around and between
// the rows of both regions.
static void transpose_case(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t, size_t rows, size_t cols) {
    const size_t lds = cols + (next() % 2 == 0 ? 0 : (size_t)range(1, 40));
    const size_t ldd = rows + (next() % 2 == 0 ? 0 : (size_t)range(1, 40));
    const size_t ns = rows * lds + 64, nd = cols * ldd + 64;
    uint8_t *src = xmalloc(ns), *dr = xmalloc(nd), *dt = xmalloc(nd);
    fill_bytes(src, ns, 3);
    memset(dr, 0xA5, nd), memset(dt, 0xA5, nd);
    ref->transpose8(rows, cols, src + 32, lds, dr + 32, ldd);
    t->transpose8(rows, cols, src + 32, lds, dt + 32, ldd);
    char what[120];
    snprintf(what, sizeof what, "transpose8 %s %zux%zu lds=%zu ldd=%zu", t->name, rows, cols, lds, ldd);
    check(memcmp(dr, dt, nd) == 0, what);
    free(src), free(dr), free(dt);
}

static void transpose_cases(const flotilla_q8_kernels *ref, const flotilla_q8_kernels *t) {
    static const size_t sizes[] = {1, 2, 7, 15, 16, 17, 31, 33, 63, 64, 65, 100, 129};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (size_t j = 0; j < sizeof sizes / sizeof sizes[0]; j++) transpose_case(ref, t, sizes[i], sizes[j]);
    }
    transpose_case(ref, t, 16, 2304);
    transpose_case(ref, t, 2304, 16);
    transpose_case(ref, t, 1280, 9);
    transpose_case(ref, t, 9, 1280);
    for (int i = 0; i < 60; i++) transpose_case(ref, t, (size_t)range(1, 300), (size_t)range(1, 300));
}

int main(int argc, char **argv) {
    const char *names[] = {"avx2", "avx512vnni", "neon", "neondot"};
    const flotilla_q8_kernels *ref = flotilla_q8_kernels_named("reference");
    if (ref == NULL) return 2;
    if (argc > 1) {
        char list[256];
        snprintf(list, sizeof list, "%s", argv[1]);
        for (char *tok = strtok(list, ","); tok != NULL; tok = strtok(NULL, ",")) {
            if (flotilla_q8_kernels_named(tok) == NULL) {
                fprintf(stderr, "path %s expected but not runnable on this CPU\n", tok);
                return 2;
            }
        }
    }
    contract_unit_tests();
#if defined(__x86_64__)
    requant_x86_sweep();
#endif
#if defined(__aarch64__)
    requant_arm_sweep();
#endif
    for (size_t p = 0; p < sizeof names / sizeof names[0]; p++) {
        const flotilla_q8_kernels *t = flotilla_q8_kernels_named(names[p]);
        if (t == NULL) continue;
        const unsigned long before = passed + failed;
        // Every M × N pair with a K drawn from the set, then every K with a random M, N.
        for (size_t i = 0; i < NDIMS; i++) {
            for (size_t j = 0; j < NDIMS; j++) gemm_case(ref, t, dims[i], dims[j], dims[next() % NDIMS]);
        }
        for (size_t i = 0; i < NDIMS; i++) gemm_case(ref, t, dims[next() % NDIMS], dims[next() % NDIMS], dims[i]);
        gemm_case(ref, t, 5, 9, 1000);  // longer K: several quads, odd tail
        // Column tails of batch-1 planes (N mod 32 in 1…16 runs the row-vectorized tail on
        // AVX-512 VNNI, 17…31 the full tile), odd M across two-panel steps, K off the quad grid.
        {
            static const size_t tn[] = {1, 9, 36, 41, 48, 49, 63, 65, 144};
            static const size_t tm[] = {1, 7, 9, 16, 17, 23, 24, 100};
            static const size_t tk[] = {1, 3, 5, 27, 64, 146, 1001};
            for (size_t i = 0; i < sizeof tn / sizeof tn[0]; i++) {
                for (size_t j = 0; j < sizeof tm / sizeof tm[0]; j++) {
                    gemm_case(ref, t, tm[j], tn[i], tk[next() % (sizeof tk / sizeof tk[0])]);
                }
            }
        }
        // Per-row shifts over the whole range at the MobileNet 1x1 / stem shapes (K = 8, 16, 27
        // against N = 2304, 576, 144, 9), low K on and off the quad grid, and extreme
        // accumulators (K = 32768 with every product at its end) across a full tile and a tail.
        {
            static const size_t sk[] = {1, 3, 4, 5, 8, 12, 16, 27, 33};
            static const size_t sn[] = {1, 9, 31, 32, 33, 47, 48, 64, 144, 576};
            for (size_t i = 0; i < sizeof sk / sizeof sk[0]; i++) {
                for (size_t j = 0; j < sizeof sn / sizeof sn[0]; j++) gemm_requant_sweep(ref, t, 62 + i % 3, sn[j], sk[i], 0);
            }
            gemm_requant_sweep(ref, t, 48, 2304, 8, 0);
            gemm_requant_sweep(ref, t, 16, 2304, 27, 0);
            gemm_requant_sweep(ref, t, 62, 48, 32768, 1);
            gemm_requant_sweep(ref, t, 9, 41, 32768, 1);
        }
        im2col_stride2_case(ref, t, 3, 96, 96, 3, 1, 1, 1);
        im2col_stride2_case(ref, t, 3, 95, 97, 3, 0, 1, 1);
        im2col_stride2_case(ref, t, 2, 33, 65, 5, 2, 0, 2);
        im2col_stride2_case(ref, t, 4, 7, 40, 1, 0, 0, 1);
        for (int i = 0; i < 150; i++) dwconv_case(ref, t, 0);
        for (int i = 0; i < 60; i++) dwconv_case(ref, t, 1);
        for (int i = 0; i < 250; i++) dwconv_cl_case(ref, t);
        for (int i = 0; i < 300; i++) add_case(ref, t);
        for (int i = 0; i < 20; i++) add_shift_sweep(ref, t);
        for (int i = 0; i < 200; i++) avgpool_case(ref, t);
        for (int i = 0; i < 300; i++) quantize_case(ref, t);
        for (size_t i = 0; i < NDIMS; i++) {
            for (size_t j = 0; j < NDIMS; j++) gemm_s32_case(ref, t, dims[i], dims[j], dims[next() % NDIMS]);
        }
        for (size_t i = 0; i < NDIMS; i++) gemm_s32_case(ref, t, dims[next() % NDIMS], dims[next() % NDIMS], dims[i]);
        gemm_s32_case(ref, t, 5, 9, 1001);
        gemm_s32_wrap_case(ref, t);
        for (int i = 0; i < 400; i++) maxpool_case(ref, t);
        for (int i = 0; i < 150; i++) conv_small_case(ref, t);
        gemm_nhwc_cases(ref, t);
        for (int i = 0; i < 300; i++) dwconv_nhwc_case(ref, t, NULL);
        // Rows wider than a 64-channel scratch band (AVX-512's narrower fallbacks), wider than
        // every band (the reference), and more taps than the scratch holds.
        {
            static const size_t wide[][5] = {{70, 600, 1, 3}, {70, 300, 2, 3}, {33, 650, 1, 3}, {17, 1100, 2, 3},
                                             {20, 12, 1, 9}};
            for (size_t i = 0; i < sizeof wide / sizeof wide[0]; i++) {
                const size_t k = wide[i][3];
                const flotilla_f32_conv2d_geometry g = {
                    .channels = wide[i][0], .in_h = k + 1, .in_w = wide[i][1], .kernel_h = k, .kernel_w = k,
                    .stride_h = 1, .stride_w = wide[i][2], .dilation_h = 1, .dilation_w = 1,
                    .pad_top = k / 2, .pad_left = k / 2, .pad_bottom = k / 2, .pad_right = k / 2};
                dwconv_nhwc_case(ref, t, &g);
            }
        }
        transpose_cases(ref, t);
        printf("%s: %lu checks (%lu depthwise on a plan-time pack, %lu gemm_nhwc)\n", t->name, passed + failed - before,
               dw_packed_cases, nhwc_cases);
        dw_packed_cases = 0;
        nhwc_cases = 0;
    }
    printf("q8 bit-exactness: %lu cases identical, %lu mismatched\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
