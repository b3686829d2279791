// Panel packing shared by the SIMD paths. Packing runs once per weight tensor at plan time (A
// for convolutions, B for constant MatMul/Gemm weights), so it is plain portable C.
#include "f32_internal.h"

// A → [panel][k][mr]: row r of panel p, column k at packed[p·mr·K + k·mr + r]. Rows past M are
// zero so a microkernel can always read a full panel column with one contiguous load.
void flotilla_f32_pack_a_panels(size_t M, size_t K, const float *A, size_t lda, size_t mr,
                                float *packed) {
    for (size_t m0 = 0; m0 < M; m0 += mr) {
        float *panel = packed + m0 * K;
        for (size_t k = 0; k < K; k++) {
            for (size_t r = 0; r < mr; r++) {
                panel[k * mr + r] = m0 + r < M ? A[(m0 + r) * lda + k] : 0.0f;
            }
        }
    }
}

// op(B) → [panel][k][nr]: column j of panel p, row k at packed[p·nr·K + k·nr + j]; columns past
// N are zero so the microkernel's B loads never need masks.
void flotilla_f32_pack_b_panels(size_t N, size_t K, const float *B, size_t ldb, bool trans_b,
                                size_t nr, float *packed) {
    for (size_t n0 = 0; n0 < N; n0 += nr) {
        float *panel = packed + n0 * K;
        for (size_t k = 0; k < K; k++) {
            for (size_t j = 0; j < nr; j++) {
                const size_t n = n0 + j;
                float v = 0.0f;
                if (n < N) v = trans_b ? B[n * ldb + k] : B[k * ldb + n];
                panel[k * nr + j] = v;
            }
        }
    }
}
