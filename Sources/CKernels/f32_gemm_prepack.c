// Packing of constant right-hand matrices for a named fp32 path on any host (see
// ckernels_f32.h, "Pre-packing for another host"). The panel widths must stay those of the
// tables in f32_kernels.c: CKernelsTests checks each against the table's own gemm_pack_b.
#include <string.h>

#include "f32_internal.h"

bool flotilla_f32_gemm_pack_b_layout_named(const char *name, size_t *nr) {
    if (name == NULL || nr == NULL) return false;
    if (strcmp(name, "reference") == 0) {
        *nr = 0;
        return true;
    }
    if (strcmp(name, "avx2") == 0) {
        *nr = 16;
        return true;
    }
    if (strcmp(name, "avx512") == 0) {
        *nr = 32;
        return true;
    }
    return false;
}

size_t flotilla_f32_gemm_pack_b_size_nr(size_t N, size_t K, size_t nr) {
    if (nr == 0) return K * N;
    return (N + nr - 1) / nr * nr * K;
}

void flotilla_f32_gemm_pack_b_nr(size_t N, size_t K, const float *B, size_t ldb, bool trans_b,
                                 size_t nr, float *packed) {
    if (nr == 0) {
        for (size_t k = 0; k < K; k++) {
            for (size_t n = 0; n < N; n++) packed[k * N + n] = trans_b ? B[n * ldb + k] : B[k * ldb + n];
        }
        return;
    }
    flotilla_f32_pack_b_panels(N, K, B, ldb, trans_b, nr, packed);
}

void flotilla_f32_gemm_unpack_b_nr(size_t N, size_t K, const float *packed, size_t nr, float *B) {
    if (nr == 0) {
        if (K * N > 0) memcpy(B, packed, K * N * sizeof(float));
        return;
    }
    for (size_t n0 = 0; n0 < N; n0 += nr) {
        const float *panel = packed + n0 * K;
        for (size_t k = 0; k < K; k++) {
            for (size_t j = 0; j < nr && n0 + j < N; j++) B[k * N + n0 + j] = panel[k * nr + j];
        }
    }
}
