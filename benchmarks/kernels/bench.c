// Single-thread benchmark of the fp32 kernels, every path this CPU runs, at MobileNetV2 shapes
// and large squares. Prints TSV rows: kind, shape, path, GFLOP/s (best of several runs).
// Built and run by run.sh, which puts numpy's figures beside these from the same run.
#define _GNU_SOURCE
#include "ckernels.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float *random_floats(size_t n, uint32_t seed) {
    float *p = aligned_alloc(64, ((n * sizeof(float)) + 63) / 64 * 64 + 64);
    if (p == NULL) {
        fprintf(stderr, "bench: out of memory for %zu floats\n", n);
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        p[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
    }
    return p;
}

// Core clock from a chain of dependent integer adds (one per cycle on every x86 core).
static double measure_ghz(void) {
    const uint64_t n = 400000000;
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
        uint64_t x = 0;
        const double t0 = now();
        for (uint64_t i = 0; i < n; i += 8) {
            __asm__ volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                             "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0" : "+r"(x));
        }
        const double ghz = (double)n / (now() - t0) / 1e9;
        if (ghz > best) best = ghz;
    }
    return best;
}

#if defined(__x86_64__)
// Measured FMA throughput: 16 independent zmm FMA chains, flop per cycle = 32 × FMAs/cycle.
__attribute__((target("avx512f"))) static double measure_fma_flops_per_cycle(double ghz) {
    __m512 acc[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i++) acc[i] = _mm512_set1_ps((float)i);
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    const uint64_t n = 50000000;
    const double t0 = now();
    for (uint64_t i = 0; i < n; i++) {
#pragma GCC unroll 16
        for (int j = 0; j < 16; j++) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
    }
    const double seconds = now() - t0;
    float sink = 0;
    for (int i = 0; i < 16; i++) sink += _mm512_reduce_add_ps(acc[i]);
    if (sink == 12345.0f) puts("");
    return (double)n * 16 * 32 / seconds / 1e9 / ghz;
}
#endif

// Best-of time of `run` over repetitions filling about `budget` seconds (at least 3 runs).
#define BEST_OF(budget, stmt)                                                 \
    ({                                                                        \
        double best_ = 1e30, spent_ = 0;                                      \
        for (int rep_ = 0; rep_ < 3 || spent_ < (budget); rep_++) {           \
            const double t0_ = now();                                         \
            stmt;                                                             \
            const double dt_ = now() - t0_;                                   \
            spent_ += dt_;                                                    \
            if (dt_ < best_) best_ = dt_;                                     \
            if (rep_ >= 200) break;                                           \
        }                                                                     \
        best_;                                                                \
    })

static void bench_gemm(const char *label, size_t M, size_t N, size_t K) {
    float *a = random_floats(M * K, 1), *b = random_floats(K * N, 2), *bias = random_floats(M, 3);
    float *c = random_floats(M * N, 4);
    const char *paths[] = {"reference", "avx2", "avx512"};
    for (size_t p = 0; p < 3; p++) {
        const flotilla_f32_kernels *t = flotilla_f32_kernels_named(paths[p]);
        if (t == NULL) continue;
        // The reference is ~100× slower: one run is enough and keeps the benchmark short.
        if (p == 0 && (double)M * N * K > 4e8) continue;
        float *packed = random_floats(t->gemm_pack_a_size(M, K) + 1, 5);
        t->gemm_pack_a(M, K, a, K, packed);
        const double s = BEST_OF(p == 0 ? 0.0 : 0.3,
                                 t->gemm_packed_a(M, N, K, packed, b, N, bias, c, N, 0.0f, 6.0f));
        printf("gemm\t%s\t%zu\t%zu\t%zu\t%s\t%.2f\n", label, M, N, K, t->name, 2.0 * M * N * K / s / 1e9);
        fflush(stdout);
        free(packed);
    }
    free(a), free(b), free(bias), free(c);
}

static void bench_dwconv(const char *label, size_t C, size_t H, size_t stride) {
    flotilla_f32_conv2d_geometry g = {
        .channels = C, .in_h = H, .in_w = H, .kernel_h = 3, .kernel_w = 3,
        .stride_h = stride, .stride_w = stride, .dilation_h = 1, .dilation_w = 1,
        .pad_top = stride == 1 ? 1 : 0, .pad_left = stride == 1 ? 1 : 0, .pad_bottom = 1, .pad_right = 1,
    };
    const size_t out = C * flotilla_f32_conv2d_out_h(&g) * flotilla_f32_conv2d_out_w(&g);
    float *x = random_floats(C * H * H, 6), *w = random_floats(C * 9, 7), *bias = random_floats(C, 8);
    float *y = random_floats(out, 9);
    const char *paths[] = {"reference", "avx2", "avx512"};
    for (size_t p = 0; p < 3; p++) {
        const flotilla_f32_kernels *t = flotilla_f32_kernels_named(paths[p]);
        if (t == NULL) continue;
        const double s = BEST_OF(0.2, t->dwconv(&g, x, w, bias, y, 0.0f, 6.0f));
        printf("dwconv\t%s\t%zu\t%zu\t%zu\t%s\t%.2f\n", label, C, H, stride, t->name, 2.0 * 9 * out / s / 1e9);
        fflush(stdout);
    }
    free(x), free(w), free(bias), free(y);
}

int main(int argc, char **argv) {
    const bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    const double ghz = measure_ghz();
    printf("clock\t%.3f\n", ghz);
#if defined(__x86_64__)
    if (flotilla_cpu_features_detect().avx512f) printf("fma_flop_per_cycle\t%.1f\n", measure_fma_flops_per_cycle(ghz));
#endif
    // MobileNetV2 (224×224) 1×1 convolutions: M = Cout, K = Cin, N = H·W; the stem as im2col.
    bench_gemm("mnv2-stem-3x3s2", 32, 12544, 27);
    bench_gemm("mnv2-b1-expand", 96, 12544, 16);
    bench_gemm("mnv2-b2-project", 24, 3136, 144);
    bench_gemm("mnv2-b3-expand", 144, 3136, 24);
    bench_gemm("mnv2-b4-project", 32, 784, 192);
    bench_gemm("mnv2-b5-expand", 192, 784, 32);
    bench_gemm("mnv2-b8-expand", 384, 196, 64);
    bench_gemm("mnv2-b14-expand", 960, 49, 160);
    bench_gemm("mnv2-b17-project", 320, 49, 960);
    bench_gemm("mnv2-last-1x1", 1280, 49, 320);
    bench_gemm("wide-320x784x960", 320, 784, 960);
    bench_gemm("square-512", 512, 512, 512);
    if (!quick) bench_gemm("square-1024", 1024, 1024, 1024);
    bench_dwconv("mnv2-dw-112-s1", 32, 112, 1);
    bench_dwconv("mnv2-dw-112-s2", 96, 112, 2);
    bench_dwconv("mnv2-dw-28-s1", 192, 28, 1);
    bench_dwconv("mnv2-dw-7-s1", 960, 7, 1);
    return 0;
}
