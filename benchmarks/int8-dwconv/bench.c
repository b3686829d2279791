// Single-thread int8 depthwise benchmark (run.sh): planar body vs channels-last path vs the
// entry point (which picks one per call, flotilla_q8_dwconv_prefers_cl), 3×3 pad 1, per x86
// path; then the NHWC entry (dwconv_nhwc with its plan-time pack) against the NCHW entry with
// its pack (dwconv_packed), and transpose8 at the NCHW ↔ NHWC edges of MobileNet. Best of
// ≥ 200 runs (the machine is shared: the minimum is the stable figure). `--nhwc`: only the
// NHWC tables.
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

typedef struct {
    const flotilla_q8_kernels *t;
    const flotilla_f32_conv2d_geometry *g;
    const flotilla_q8_dwconv_params *p;
    const void *packed, *x;
    void *y;
} dw_call;

static double best_call_us(int which, const dw_call *c) {
    double best = 1e30, spent = 0;
    for (int rep = 0; rep < 200 || spent < 0.05; rep++) {
        const double t0 = now();
        if (which == 0) (void)c->t->dwconv_packed(c->g, c->p, c->packed, c->x, c->y);
        else (void)c->t->dwconv_nhwc(c->g, c->p, c->packed, c->x, c->y);
        const double dt = now() - t0;
        spent += dt;
        if (dt < best) best = dt;
        if (rep >= 3000) break;
    }
    return best * 1e6;
}

static void *pack_for(size_t size) {
    if (size == 0) return NULL;
    void *p = aligned_alloc(64, (size + 63) / 64 * 64);
    if (p == NULL) abort();
    return p;
}

// dwconv_packed (NCHW, the plan-time pack when the path has one) vs dwconv_nhwc (NHWC, its pack).
static void run_nhwc(const flotilla_q8_kernels *t, size_t C, size_t side, size_t stride) {
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
    void *pn = pack_for(t->dwconv_pack_size(&g)), *ph = pack_for(t->dwconv_nhwc_pack_size(&g));
    if (pn != NULL && t->dwconv_pack(&g, &p, pn) != FLOTILLA_Q8_OK) abort();
    if (ph != NULL && t->dwconv_nhwc_pack(&g, &p, ph) != FLOTILLA_Q8_OK) abort();
    const dw_call cn = {t, &g, &p, pn, x, y}, ch = {t, &g, &p, ph, x, y};
    const double tn = best_call_us(0, &cn), th = best_call_us(1, &ch);
    printf("%-11s %4zu %3zux%-3zu s%zu -> %2zux%-2zu %9.2f %9.2f   %5.2fx\n", t->name, C, side, side, stride, oh, ow, tn,
           th, tn / th);
    free(pn), free(ph), free(x), free(y), free(w), free(bias), free(mult), free(shift);
}

static void run_transpose(const flotilla_q8_kernels *t, const flotilla_q8_kernels *ref, size_t rows, size_t cols) {
    uint8_t *s = malloc(rows * cols), *d = malloc(rows * cols);
    for (size_t i = 0; i < rows * cols; i++) s[i] = (uint8_t)rnd();
    double best[2] = {1e30, 1e30};
    for (int k = 0; k < 2; k++) {
        const flotilla_q8_kernels *u = k == 0 ? ref : t;
        double spent = 0;
        for (int rep = 0; rep < 200 || spent < 0.05; rep++) {
            const double t0 = now();
            u->transpose8(rows, cols, s, cols, d, rows);
            const double dt = now() - t0;
            spent += dt;
            if (dt < best[k]) best[k] = dt;
            if (rep >= 3000) break;
        }
    }
    printf("%-11s transpose8 %4zu x %-4zu  reference %7.2f us  %s %7.2f us\n", t->name, rows, cols, best[0] * 1e6,
           t->name, best[1] * 1e6);
    free(s), free(d);
}

static void nhwc_tables(void) {
    static const size_t shapes[][3] = {{16, 48, 1}, {48, 48, 2}, {48, 24, 1}, {48, 24, 2}, {96, 12, 1},
                                       {96, 12, 2}, {144, 6, 1}, {192, 6, 1}, {192, 6, 2}, {336, 3, 1}};
    static const char *names[] = {"avx2", "avx512vnni"};
    const flotilla_q8_kernels *ref = flotilla_q8_kernels_named("reference");
    printf("\npath           C  plane    s    out  nchw+pack us  nhwc us  nchw/nhwc\n");
    for (int pi = 0; pi < 2; pi++) {
        const flotilla_q8_kernels *t = flotilla_q8_kernels_named(names[pi]);
        if (t == NULL) continue;
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) run_nhwc(t, shapes[i][0], shapes[i][1], shapes[i][2]);
    }
    printf("\n");
    for (int pi = 0; pi < 2; pi++) {
        const flotilla_q8_kernels *t = flotilla_q8_kernels_named(names[pi]);
        if (t == NULL) continue;
        run_transpose(t, ref, 16, 2304);
        run_transpose(t, ref, 2304, 16);
        run_transpose(t, ref, 1280, 9);
        run_transpose(t, ref, 9, 1280);
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--nhwc") == 0) {
        nhwc_tables();
        return 0;
    }
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
    nhwc_tables();
    return 0;
}
