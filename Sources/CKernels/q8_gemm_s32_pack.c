// Packing shared by the exact int32 GEMM paths (gemm_s32): parameter checks, the header, B as
// int16 differences or s8 quads with column terms, and the per-call repack of A. Portable C:
// packing runs once per constant B, and A's repack is O(M·K) against the GEMM's O(M·N·K).
#include "q8_internal.h"

static bool zero_point_ok(flotilla_q8_type t, int32_t z) {
    return z >= flotilla_q8_type_min(t) && z <= flotilla_q8_type_max(t);
}

static bool type_ok(flotilla_q8_type t) { return t == FLOTILLA_Q8_U8 || t == FLOTILLA_Q8_S8; }

size_t flotilla_q8_s32_pack_size(size_t K, size_t N, size_t nr, size_t k_group, size_t elem) {
    const size_t np = flotilla_q8_round_up(N, nr);
    return sizeof(flotilla_q8_s32_packed_header) + 2 * flotilla_q8_round_up(np * sizeof(int32_t), 64) +
           np * flotilla_q8_round_up(K, k_group) * elem;
}

flotilla_q8_s32_packed_header *flotilla_q8_s32_pack_begin(const flotilla_q8_gemm_s32_b_params *p, void *packed,
                                                          uint32_t layout, size_t nr, size_t k_group, size_t elem,
                                                          flotilla_q8_status *status) {
    (void)elem;
    *status = FLOTILLA_Q8_OK;
    if (p->K == 0 || p->N == 0) {
        *status = FLOTILLA_Q8_EMPTY;
        return NULL;
    }
    if (!type_ok(p->b_type)) {
        *status = FLOTILLA_Q8_BAD_ZERO_POINT;
        return NULL;
    }
    const size_t count = p->per_column ? p->N : 1;
    for (size_t n = 0; p->b_zero_point != NULL && n < count; n++) {
        if (!zero_point_ok(p->b_type, p->b_zero_point[n])) {
            *status = FLOTILLA_Q8_BAD_ZERO_POINT;
            return NULL;
        }
    }
    const size_t np = flotilla_q8_round_up(p->N, nr), column_bytes = flotilla_q8_round_up(np * sizeof(int32_t), 64);
    flotilla_q8_s32_packed_header h;
    memset(&h, 0, sizeof h);
    h.magic = FLOTILLA_Q8_S32_PACK_MAGIC;
    h.layout = layout;
    h.K = p->K;
    h.N = p->N;
    h.b_type = (uint32_t)p->b_type;
    h.nr = (uint32_t)nr;
    h.k_padded = flotilla_q8_round_up(p->K, k_group);
    h.zb_offset = sizeof h;
    h.terms_offset = sizeof h + column_bytes;
    h.data_offset = sizeof h + 2 * column_bytes;
    memcpy(packed, &h, sizeof h);
    int32_t *zb = (int32_t *)(void *)((uint8_t *)packed + h.zb_offset);
    int32_t *terms = (int32_t *)(void *)((uint8_t *)packed + h.terms_offset);
    for (size_t n = 0; n < np; n++) {
        zb[n] = n < p->N ? flotilla_q8_s32_zb(p, n) : 0;
        terms[n] = 0;
    }
    return (flotilla_q8_s32_packed_header *)packed;
}

const flotilla_q8_s32_packed_header *flotilla_q8_s32_packed_check(const void *packed, size_t K, size_t N,
                                                                  uint32_t layout) {
    const flotilla_q8_s32_packed_header *h = (const flotilla_q8_s32_packed_header *)packed;
    if (h == NULL || h->magic != FLOTILLA_Q8_S32_PACK_MAGIC || h->layout != layout) return NULL;
    if (h->K != K || h->N != N) return NULL;
    return h;
}

flotilla_q8_status flotilla_q8_s32_a_check(size_t M, const flotilla_q8_gemm_s32_a_params *a) {
    if (!type_ok(a->a_type)) return FLOTILLA_Q8_BAD_ZERO_POINT;
    if (a->a_zero_point == NULL) return FLOTILLA_Q8_OK;
    const size_t count = a->per_row ? M : (M > 0 ? 1 : 0);
    for (size_t m = 0; m < count; m++) {
        if (!zero_point_ok(a->a_type, a->a_zero_point[m])) return FLOTILLA_Q8_BAD_ZERO_POINT;
    }
    return FLOTILLA_Q8_OK;
}

void flotilla_q8_s32_pack_b_i16(const flotilla_q8_gemm_s32_b_params *p, const uint8_t *B, size_t ldb, size_t nr,
                                size_t k_group, size_t kp, int16_t *out) {
    const size_t K = p->K, N = p->N;
    for (size_t n0 = 0; n0 < N; n0 += nr) {
        for (size_t k0 = 0; k0 < kp; k0 += k_group) {
            for (size_t c = 0; c < nr; c++) {
                const size_t n = n0 + c;
                const int32_t z = n < N ? flotilla_q8_s32_zb(p, n) : 0;
                for (size_t j = 0; j < k_group; j++) {
                    const size_t k = k0 + j;
                    // |b − zb| ≤ 255: exact in int16.
                    *out++ = (int16_t)(k < K && n < N ? flotilla_q8_load(B, k * ldb + n, p->b_type) - z : 0);
                }
            }
        }
    }
}

void flotilla_q8_s32_pack_b_s8_quads(const flotilla_q8_gemm_s32_b_params *p, const uint8_t *B, size_t ldb,
                                     flotilla_q8_s32_packed_header *h) {
    const size_t K = p->K, N = p->N, nr = h->nr;
    const uint8_t flip = p->b_type == FLOTILLA_Q8_U8 ? 0x80 : 0;  // b' = b − 128 for u8
    flotilla_q8_pack_b_quads(N, K, B, ldb, nr, flip, (uint8_t *)h + h->data_offset);
    int32_t *zb = (int32_t *)(void *)((uint8_t *)h + h->zb_offset);
    int32_t *terms = (int32_t *)(void *)((uint8_t *)h + h->terms_offset);
    for (size_t n = 0; n < N; n++) {
        zb[n] -= flip != 0 ? 128 : 0;
        uint32_t sum = 0;
        for (size_t k = 0; k < K; k++) sum += (uint32_t)(int32_t)(int8_t)(B[k * ldb + n] ^ flip);
        terms[n] = (int32_t)(sum - (uint32_t)K * (uint32_t)zb[n]);
    }
}

void flotilla_q8_s32_pack_a_i16(size_t M, size_t K, const uint8_t *A, size_t lda,
                                const flotilla_q8_gemm_s32_a_params *a, size_t kp, int16_t *out) {
    for (size_t m = 0; m < M; m++) {
        const int32_t z = flotilla_q8_s32_za(a, m);
        const uint8_t *row = A + m * lda;
        int16_t *o = out + m * kp;
        if (a->a_type == FLOTILLA_Q8_U8) {
            for (size_t k = 0; k < K; k++) o[k] = (int16_t)((int32_t)row[k] - z);
        } else {
            for (size_t k = 0; k < K; k++) o[k] = (int16_t)((int32_t)(int8_t)row[k] - z);
        }
        for (size_t k = K; k < kp; k++) o[k] = 0;
    }
}

void flotilla_q8_s32_pack_a_bytes(size_t M, size_t K, const uint8_t *A, size_t lda,
                                  const flotilla_q8_gemm_s32_a_params *a, bool to_signed, size_t kp, uint8_t *out,
                                  int32_t *row_sum, int32_t *za_moved) {
    const bool is_signed = a->a_type == FLOTILLA_Q8_S8;
    const uint8_t flip = is_signed != to_signed ? 0x80 : 0;
    // XOR 0x80 turns u8 v into s8 v − 128 and s8 v into u8 v + 128: the zero point moves alike.
    const int32_t move = flip == 0 ? 0 : (to_signed ? -128 : 128);
    for (size_t m = 0; m < M; m++) {
        const uint8_t *row = A + m * lda;
        uint8_t *o = out + m * kp;
        uint32_t sum = 0;
        if (to_signed) {
            for (size_t k = 0; k < K; k++) {
                o[k] = (uint8_t)(row[k] ^ flip);
                sum += (uint32_t)(int32_t)(int8_t)o[k];
            }
        } else {
            for (size_t k = 0; k < K; k++) {
                o[k] = (uint8_t)(row[k] ^ flip);
                sum += o[k];
            }
        }
        for (size_t k = K; k < kp; k++) o[k] = 0;
        row_sum[m] = (int32_t)sum;
        za_moved[m] = flotilla_q8_s32_za(a, m) + move;
    }
}
