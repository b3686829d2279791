// Single-thread channels-last int8 GEMM benchmark (run.sh): the NCHW gemm (B K×N, its per-call
// repack of B included) against gemm_nhwc (A N×K, no repack) on the same packed weights, per x86
// path, on MobileNetV2-at-96×96's 1×1 convs (M × N × K = Cout × pixels × Cin). Best of ≥ 300
// runs (the machine is shared: the minimum is the stable figure); the two kernels alternate so
// both see the same load.
#define _GNU_SOURCE
#include "ckernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint32_t seed = 12345;
static uint32_t rnd(void) { return seed = seed * 1664525u + 1013904223u; }

static const size_t shapes[][3] = {
    {48, 2304, 8}, {8, 2304, 16}, {48, 576, 8},   {8, 576, 48},   {96, 144, 16}, {16, 144, 96}, {192, 36, 32},
    {32, 36, 192}, {144, 36, 24}, {24, 36, 144},  {336, 9, 56},   {56, 9, 336},  {112, 9, 336}, {1280, 9, 112},
};
// How often each shape runs in the model (s6-common.md), for the weighted total.
static const int count[] = {1, 1, 2, 2, 3, 2, 3, 2, 4, 3, 3, 2, 1, 1};

int main(int argc, char **argv) {
    // --seven-bit: weights in [-63, 63] (AVX2 packs its VPMADDUBSW layout); --s8: s8 activations.
    bool seven = false, s8 = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seven-bit") == 0) seven = true;
        if (strcmp(argv[i], "--s8") == 0) s8 = true;
    }
    const char *paths[] = {"avx2", "avx512vnni"};
    for (size_t p = 0; p < 2; p++) {
        const flotilla_q8_kernels *t = flotilla_q8_kernels_named(paths[p]);
        if (t == NULL || t->gemm_nhwc == NULL) continue;
        printf("%-10s %5s %5s %5s %10s %10s %7s\n", paths[p], "M", "N", "K", "gemm us", "nhwc us", "ratio");
        double sum_g = 0, sum_n = 0;
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            const size_t M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
            int8_t *w = malloc(M * K);
            int32_t *bias = malloc(M * 4), *mult = malloc(M * 4), *shift = malloc(M * 4);
            uint8_t *a = malloc(N * K), *b = malloc(N * K), *c = malloc(M * N);
            for (size_t i = 0; i < M * K; i++) w[i] = (int8_t)((int)(rnd() % (seven ? 127 : 255)) - (seven ? 63 : 127));
            for (size_t i = 0; i < N * K; i++) a[i] = (uint8_t)rnd();
            for (size_t n = 0; n < N; n++) {
                for (size_t k = 0; k < K; k++) b[k * N + n] = a[n * K + k];
            }
            for (size_t m = 0; m < M; m++) {
                bias[m] = (int32_t)(rnd() % 20000) - 10000;
                flotilla_q8_quantize_multiplier(0.0005 + (rnd() % 1000) * 1e-6, &mult[m], &shift[m]);
            }
            const flotilla_q8_gemm_pack_params pp = {.M = M, .K = K, .x_type = s8 ? FLOTILLA_Q8_S8 : FLOTILLA_Q8_U8, .x_zero_point = 3,
                                                     .seven_bit = seven};
            void *packed = aligned_alloc(64, (t->gemm_pack_size(M, K) + 63) / 64 * 64);
            if (t->gemm_pack(&pp, w, K, bias, packed) != FLOTILLA_Q8_OK) return 1;
            const size_t ws_size = t->gemm_workspace_size(N, K) + t->gemm_nhwc_workspace_size(N, K) + 64;
            void *ws = aligned_alloc(64, (ws_size + 63) / 64 * 64);
            // Relu6-like clamp on a u8 output, per-channel multipliers: the model's common case.
            const flotilla_q8_requant rq = {.multiplier = mult, .shift = shift, .per_channel = true,
                                            .type = FLOTILLA_Q8_U8, .zero_point = 0, .qmin = 0, .qmax = 200};
            double bg = 1e30, bn = 1e30, spent = 0;
            for (int rep = 0; rep < 300 || (spent < 0.1 && rep < 5000); rep++) {
                double t0 = now();
                t->gemm(M, N, K, packed, b, N, &rq, c, N, ws);
                double t1 = now();
                t->gemm_nhwc(M, N, K, packed, a, K, &rq, c, M, ws);
                double t2 = now();
                if (t1 - t0 < bg) bg = t1 - t0;
                if (t2 - t1 < bn) bn = t2 - t1;
                spent += t2 - t0;
            }
            printf("%-10s %5zu %5zu %5zu %10.2f %10.2f %6.2fx\n", "", M, N, K, bg * 1e6, bn * 1e6, bg / bn);
            sum_g += count[s] * bg * 1e6, sum_n += count[s] * bn * 1e6;
            free(w), free(bias), free(mult), free(shift), free(a), free(b), free(c), free(packed), free(ws);
        }
        printf("%-10s model total (each shape × its count): gemm %.1f us, nhwc %.1f us, %.2fx\n\n", paths[p], sum_g,
               sum_n, sum_g / sum_n);
    }
    return 0;
}
