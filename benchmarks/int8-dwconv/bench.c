// Single-thread int8 depthwise benchmark (run.sh): planar body vs channels-last path vs the
// entry point (which picks one per call, flotilla_q8_dwconv_prefers_cl), 3×3 pad 1, per x86
// path. Best of ≥ 200 runs (the machine is shared: the minimum is the stable figure).
#define _GNU_SOURCE
#include "ckernels.h"
#include "q8_dwconv_cl.h"

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

typedef void (*dw_fn)(const flotilla_f32_conv2d_geometry *, const flotilla_q8_dwconv_params *, const void *, void *);
typedef bool (*dw_cl_fn)(const flotilla_f32_conv2d_geometry *, const flotilla_q8_dwconv_params *, const void *, void *);

static double best_us(int which, dw_fn planar, dw_cl_fn cl, dw_fn entry, const flotilla_f32_conv2d_geometry *g,
                      const flotilla_q8_dwconv_params *p, const uint8_t *x, uint8_t *y) {
    double best = 1e30, spent = 0;
    for (int rep = 0; rep < 200 || spent < 0.05; rep++) {
        const double t0 = now();
        if (which == 0) planar(g, p, x, y);
        else if (which == 1) (void)cl(g, p, x, y);
        else entry(g, p, x, y);
        const double dt = now() - t0;
        spent += dt;
        if (dt < best) best = dt;
        if (rep >= 3000) break;
    }
    return best * 1e6;
}

static void run(const char *path, dw_fn planar, dw_cl_fn cl, dw_fn entry, size_t C, size_t side, size_t stride) {
    flotilla_f32_conv2d_geometry g = {.channels = C, .in_h = side, .in_w = side, .kernel_h = 3, .kernel_w = 3,
                                      .stride_h = stride, .stride_w = stride, .dilation_h = 1, .dilation_w = 1,
                                      .pad_top = 1, .pad_left = 1, .pad_bottom = 1, .pad_right = 1};
    const size_t oh = flotilla_f32_conv2d_out_h(&g), ow = flotilla_f32_conv2d_out_w(&g);
    uint8_t *x = malloc(C * side * side), *y = malloc(C * oh * ow);
    int8_t *w = malloc(C * 9);
    int32_t *bias = malloc(C * 4), *mult = malloc(C * 4), *shift = malloc(C * 4);
    for (size_t i = 0; i < C * side * side; i++) x[i] = (uint8_t)rnd();
    for (size_t i = 0; i < C * 9; i++) w[i] = (int8_t)((int)(rnd() % 255) - 127);
    for (size_t c = 0; c < C; c++) {
        bias[c] = (int32_t)(rnd() % 20000) - 10000;
        flotilla_q8_quantize_multiplier(0.001 + (rnd() % 1000) * 1e-5, &mult[c], &shift[c]);
    }
    const flotilla_q8_dwconv_params p = {.x_type = FLOTILLA_Q8_U8, .x_zero_point = 3, .weights = w, .bias = bias,
                                         .requant = {.multiplier = mult, .shift = shift, .per_channel = true,
                                                     .type = FLOTILLA_Q8_U8, .zero_point = 0, .qmin = 0, .qmax = 255}};
    const double tp = best_us(0, planar, cl, entry, &g, &p, x, y), tc = best_us(1, planar, cl, entry, &g, &p, x, y);
    const double te = best_us(2, planar, cl, entry, &g, &p, x, y);
    printf("%-11s %4zu %3zux%-3zu s%zu -> %2zux%-2zu %9.2f %9.2f %9.2f   %5.2fx  %s\n", path, C, side, side, stride, oh, ow,
           tp, tc, te, tp / tc, flotilla_q8_dwconv_prefers_cl(&g, strcmp(path, "avx2") == 0 ? 32 : 64) ? "cl" : "planar");
    free(x), free(y), free(w), free(bias), free(mult), free(shift);
}

int main(int argc, char **argv) {
    const bool grid = argc > 1 && strcmp(argv[1], "--grid") == 0;
    static const size_t mobilenet[][3] = {{48, 48, 2}, {48, 24, 1}, {16, 48, 1}, {336, 3, 1}, {96, 12, 1},
                                          {192, 6, 2}, {192, 6, 1}, {48, 24, 2}, {96, 12, 2}, {144, 6, 1}};
    static const char *names[] = {"avx2", "avx512vnni"};
    printf("path           C  plane    s    out    planar us     cl us  entry us  planar/cl  rule\n");
    for (int pi = 0; pi < 2; pi++) {
        if (flotilla_q8_kernels_named(names[pi]) == NULL) continue;
        const dw_fn planar = pi == 0 ? flotilla_q8_dwconv_planar__avx2 : flotilla_q8_dwconv_planar__avx512vnni;
        const dw_cl_fn cl = pi == 0 ? flotilla_q8_dwconv_cl__avx2 : flotilla_q8_dwconv_cl__avx512vnni;
        const dw_fn entry = pi == 0 ? flotilla_q8_dwconv__avx2 : flotilla_q8_dwconv__avx512vnni;
        for (size_t i = 0; i < sizeof mobilenet / sizeof mobilenet[0]; i++) {
            run(names[pi], planar, cl, entry, mobilenet[i][0], mobilenet[i][1], mobilenet[i][2]);
        }
        if (!grid) continue;
        static const size_t cs[] = {8, 16, 24, 32, 48, 64, 96, 144, 192, 336};
        static const size_t sides[] = {3, 6, 12, 24, 32, 48, 64};
        for (size_t s = 1; s <= 2; s++) {
            for (size_t si = 0; si < sizeof sides / sizeof sides[0]; si++) {
                for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ci++) run(names[pi], planar, cl, entry, cs[ci], sides[si], s);
            }
        }
    }
    return 0;
}
