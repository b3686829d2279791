// The fp32 dispatch tables and the once-per-process choice between them.
#include "f32_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const flotilla_f32_kernels reference_table = {
    .name = "reference",
    .gemm_mr = 1,
    .gemm_nr = 1,
    .gemm_pack_a_size = flotilla_f32_gemm_pack_a_size__ref,
    .gemm_pack_a = flotilla_f32_gemm_pack_a__ref,
    .gemm_packed_a = flotilla_f32_gemm_packed_a__ref,
    .gemm_pack_b_size = flotilla_f32_gemm_pack_b_size__ref,
    .gemm_pack_b = flotilla_f32_gemm_pack_b__ref,
    .gemm_packed_b = flotilla_f32_gemm_packed_b__ref,
    .gemm_workspace_size = flotilla_f32_gemm_workspace_size__ref,
    .gemm = flotilla_f32_gemm__ref,
    .im2col = flotilla_f32_im2col__ref,
    .dwconv = flotilla_f32_dwconv__ref,
};

#if defined(__x86_64__)
static const flotilla_f32_kernels avx2_table = {
    .name = "avx2",
    .gemm_mr = 6,
    .gemm_nr = 16,
    .gemm_pack_a_size = flotilla_f32_gemm_pack_a_size__avx2_fma,
    .gemm_pack_a = flotilla_f32_gemm_pack_a_6x16__avx2_fma,
    .gemm_packed_a = flotilla_f32_gemm_packed_a_6x16__avx2_fma,
    .gemm_pack_b_size = flotilla_f32_gemm_pack_b_size__avx2_fma,
    .gemm_pack_b = flotilla_f32_gemm_pack_b_6x16__avx2_fma,
    .gemm_packed_b = flotilla_f32_gemm_packed_b_6x16__avx2_fma,
    .gemm_workspace_size = flotilla_f32_gemm_workspace_size__avx2_fma,
    .gemm = flotilla_f32_gemm_6x16__avx2_fma,
    .im2col = flotilla_f32_im2col__rowcopy,
    .dwconv = flotilla_f32_dwconv__avx2_fma,
};

static const flotilla_f32_kernels avx512_table = {
    .name = "avx512",
    .gemm_mr = 8,
    .gemm_nr = 32,
    .gemm_pack_a_size = flotilla_f32_gemm_pack_a_size__avx512f,
    .gemm_pack_a = flotilla_f32_gemm_pack_a_8x32__avx512f,
    .gemm_packed_a = flotilla_f32_gemm_packed_a_8x32__avx512f,
    .gemm_pack_b_size = flotilla_f32_gemm_pack_b_size__avx512f,
    .gemm_pack_b = flotilla_f32_gemm_pack_b_8x32__avx512f,
    .gemm_packed_b = flotilla_f32_gemm_packed_b_8x32__avx512f,
    .gemm_workspace_size = flotilla_f32_gemm_workspace_size__avx512f,
    .gemm = flotilla_f32_gemm_8x32__avx512f,
    .im2col = flotilla_f32_im2col__rowcopy,
    .dwconv = flotilla_f32_dwconv__avx512f,
};
#endif

const flotilla_f32_kernels *flotilla_f32_kernels_named(const char *name) {
    if (name == NULL) return NULL;
    if (strcmp(name, "reference") == 0) return &reference_table;
#if defined(__x86_64__)
    const flotilla_cpu_features f = flotilla_cpu_features_detect();
    if (strcmp(name, "avx2") == 0) return f.avx2 && f.fma ? &avx2_table : NULL;
    if (strcmp(name, "avx512") == 0) {
        return f.avx512f && f.avx512bw && f.avx512vl && f.avx2 && f.fma ? &avx512_table : NULL;
    }
#endif
    return NULL;
}

static const flotilla_f32_kernels *chosen;
static pthread_once_t chosen_once = PTHREAD_ONCE_INIT;

static void choose(void) {
    // FLOTILLA_KERNELS names a path; an unknown name or one this CPU cannot run is ignored so a
    // stale setting never makes a device fail, it only loses the override.
    const char *forced = getenv("FLOTILLA_KERNELS");
    const flotilla_f32_kernels *table = forced != NULL ? flotilla_f32_kernels_named(forced) : NULL;
    if (table == NULL) table = flotilla_f32_kernels_named("avx512");
    if (table == NULL) table = flotilla_f32_kernels_named("avx2");
    if (table == NULL) table = &reference_table;
    chosen = table;
}

const flotilla_f32_kernels *flotilla_f32_kernels_get(void) {
    pthread_once(&chosen_once, choose);
    return chosen;
}

size_t flotilla_f32_gemm_pack_a_size(size_t M, size_t K) {
    return flotilla_f32_kernels_get()->gemm_pack_a_size(M, K);
}

void flotilla_f32_gemm_pack_a(size_t M, size_t K, const float *A, size_t lda, float *packed) {
    flotilla_f32_kernels_get()->gemm_pack_a(M, K, A, lda, packed);
}

void flotilla_f32_gemm_packed_a(size_t M, size_t N, size_t K, const float *packed_a,
                                const float *B, size_t ldb, const float *bias, float *C,
                                size_t ldc, float clamp_min, float clamp_max) {
    flotilla_f32_kernels_get()->gemm_packed_a(M, N, K, packed_a, B, ldb, bias, C, ldc, clamp_min, clamp_max);
}

size_t flotilla_f32_gemm_pack_b_size(size_t N, size_t K) {
    return flotilla_f32_kernels_get()->gemm_pack_b_size(N, K);
}

void flotilla_f32_gemm_pack_b(size_t N, size_t K, const float *B, size_t ldb, bool trans_b,
                              float *packed) {
    flotilla_f32_kernels_get()->gemm_pack_b(N, K, B, ldb, trans_b, packed);
}

void flotilla_f32_gemm_packed_b(size_t M, size_t N, size_t K, const float *A, size_t lda,
                                const float *packed_b, const float *bias, float *C, size_t ldc,
                                float clamp_min, float clamp_max) {
    flotilla_f32_kernels_get()->gemm_packed_b(M, N, K, A, lda, packed_b, bias, C, ldc, clamp_min, clamp_max);
}

size_t flotilla_f32_gemm_workspace_size(size_t M, size_t N, size_t K, bool trans_b) {
    return flotilla_f32_kernels_get()->gemm_workspace_size(M, N, K, trans_b);
}

void flotilla_f32_gemm(size_t M, size_t N, size_t K, const float *A, size_t lda, const float *B,
                       size_t ldb, bool trans_b, const float *bias, float *C, size_t ldc,
                       float clamp_min, float clamp_max, float *workspace) {
    flotilla_f32_kernels_get()->gemm(M, N, K, A, lda, B, ldb, trans_b, bias, C, ldc, clamp_min, clamp_max, workspace);
}

void flotilla_f32_im2col(const flotilla_f32_conv2d_geometry *g, const float *input,
                         float *columns) {
    flotilla_f32_kernels_get()->im2col(g, input, columns);
}

void flotilla_f32_dwconv(const flotilla_f32_conv2d_geometry *g, const float *input,
                         const float *weights, const float *bias, float *output, float clamp_min,
                         float clamp_max) {
    flotilla_f32_kernels_get()->dwconv(g, input, weights, bias, output, clamp_min, clamp_max);
}
