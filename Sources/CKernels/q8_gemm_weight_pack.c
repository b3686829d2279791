// Weight packing of every int8 GEMM layout, compiled on every host: packing is plain C (no
// target attribute, no intrinsics), so the coordinator packs for any class, and a plan repacks
// an artifact built for another path after unpacking it here. The kernels that read these
// layouts live in the path files (q8_gemm_<path>.c), behind their architecture guards.
#include <string.h>

#include "q8_internal.h"

enum { AVX2_MR = 4, VNNI_MR = 8, NEON_MR = 4, NEONDOT_MR = 4 };

// z_eff: x86 paths feed activations as u8 (s8 XOR 0x80 = +128); ARM paths as s8 (u8 − 128).
static int32_t z_eff_u8(const flotilla_q8_gemm_pack_params *p) {
    return p->x_type == FLOTILLA_Q8_S8 ? p->x_zero_point + 128 : p->x_zero_point;
}

static int32_t z_eff_s8(const flotilla_q8_gemm_pack_params *p) {
    return p->x_type == FLOTILLA_Q8_U8 ? p->x_zero_point - 128 : p->x_zero_point;
}

static int32_t *acc_init_of(void *packed) {
    return (int32_t *)((uint8_t *)packed + sizeof(flotilla_q8_packed_header));
}

size_t flotilla_q8_gemm_pack_size__avx2(size_t M, size_t K) {
    const size_t mp = flotilla_q8_round_up(M, AVX2_MR);
    // The widening layout needs 2 bytes per weight; the maddubs one uses half of that.
    return sizeof(flotilla_q8_packed_header) + flotilla_q8_round_up(mp * sizeof(int32_t), 64) +
           mp * flotilla_q8_round_up(K, 4) * 2;
}

// AVX2 order of one quad's int16 pair: (w0, w2), (w1, w3), the even/odd byte split of a quad.
static const size_t avx2_widen_order[4] = {0, 2, 1, 3};

flotilla_q8_status flotilla_q8_gemm_pack_4x16__avx2(const flotilla_q8_gemm_pack_params *p,
                                                    const int8_t *W, size_t ldw, const int32_t *bias,
                                                    void *packed) {
    const flotilla_q8_status s = flotilla_q8_pack_check(p, W, ldw, bias);
    if (s != FLOTILLA_Q8_OK) return s;
    bool small = true;  // every |w| ≤ 63: VPMADDUBSW cannot saturate
    for (size_t m = 0; m < p->M && small; m++) {
        for (size_t k = 0; k < p->K; k++) {
            if (W[m * ldw + k] > 63 || W[m * ldw + k] < -63) {
                small = false;
                break;
            }
        }
    }
    const uint32_t layout = small ? FLOTILLA_Q8_LAYOUT_AVX2_MADDUBS : FLOTILLA_Q8_LAYOUT_AVX2_WIDEN;
    const size_t offset = flotilla_q8_write_header(packed, p, layout, AVX2_MR, 4);
    flotilla_q8_pack_acc_init(p, W, ldw, bias, z_eff_u8(p), flotilla_q8_round_up(p->M, AVX2_MR), acc_init_of(packed));
    int8_t *out = (int8_t *)packed + offset;
    if (small) {
        flotilla_q8_pack_quads(p->M, p->K, W, ldw, AVX2_MR, out);
        return FLOTILLA_Q8_OK;
    }
    // [panel][k/4][row] → int16 in avx2_widen_order.
    int16_t *o = (int16_t *)(void *)out;
    const size_t k4 = flotilla_q8_round_up(p->K, 4) / 4, panels = flotilla_q8_round_up(p->M, AVX2_MR) / AVX2_MR;
    for (size_t pn = 0; pn < panels; pn++) {
        for (size_t g = 0; g < k4; g++) {
            for (size_t r = 0; r < AVX2_MR; r++) {
                for (size_t j = 0; j < 4; j++) {
                    const size_t m = pn * AVX2_MR + r, k = g * 4 + avx2_widen_order[j];
                    *o++ = (int16_t)((m < p->M && k < p->K) ? W[m * ldw + k] : 0);
                }
            }
        }
    }
    return FLOTILLA_Q8_OK;
}

// The quad layouts (VNNI, NEON dot): a panel of mr rows per k quad, 4 bytes per row.
static size_t quads_pack_size(size_t M, size_t K, size_t mr) {
    const size_t mp = flotilla_q8_round_up(M, mr);
    return sizeof(flotilla_q8_packed_header) + flotilla_q8_round_up(mp * sizeof(int32_t), 64) +
           mp * flotilla_q8_round_up(K, 4);
}

static flotilla_q8_status pack_quads_layout(const flotilla_q8_gemm_pack_params *p, const int8_t *W, size_t ldw,
                                            const int32_t *bias, void *packed, uint32_t layout, size_t mr,
                                            int32_t z_eff) {
    const flotilla_q8_status s = flotilla_q8_pack_check(p, W, ldw, bias);
    if (s != FLOTILLA_Q8_OK) return s;
    const size_t offset = flotilla_q8_write_header(packed, p, layout, mr, 4);
    flotilla_q8_pack_acc_init(p, W, ldw, bias, z_eff, flotilla_q8_round_up(p->M, mr), acc_init_of(packed));
    flotilla_q8_pack_quads(p->M, p->K, W, ldw, mr, (int8_t *)packed + offset);
    return FLOTILLA_Q8_OK;
}

size_t flotilla_q8_gemm_pack_size__avx512vnni(size_t M, size_t K) { return quads_pack_size(M, K, VNNI_MR); }

flotilla_q8_status flotilla_q8_gemm_pack_8x32__avx512vnni(const flotilla_q8_gemm_pack_params *p,
                                                          const int8_t *W, size_t ldw,
                                                          const int32_t *bias, void *packed) {
    return pack_quads_layout(p, W, ldw, bias, packed, FLOTILLA_Q8_LAYOUT_AVX512VNNI, VNNI_MR, z_eff_u8(p));
}

size_t flotilla_q8_gemm_pack_size__neon(size_t M, size_t K) {
    const size_t mp = flotilla_q8_round_up(M, NEON_MR);
    return sizeof(flotilla_q8_packed_header) + flotilla_q8_round_up(mp * sizeof(int32_t), 64) +
           mp * K * sizeof(int16_t);
}

flotilla_q8_status flotilla_q8_gemm_pack_4x16__neon(const flotilla_q8_gemm_pack_params *p,
                                                    const int8_t *W, size_t ldw, const int32_t *bias,
                                                    void *packed) {
    const flotilla_q8_status s = flotilla_q8_pack_check(p, W, ldw, bias);
    if (s != FLOTILLA_Q8_OK) return s;
    const size_t offset = flotilla_q8_write_header(packed, p, FLOTILLA_Q8_LAYOUT_NEON, NEON_MR, 1);
    flotilla_q8_pack_acc_init(p, W, ldw, bias, z_eff_s8(p), flotilla_q8_round_up(p->M, NEON_MR), acc_init_of(packed));
    int16_t *o = (int16_t *)(void *)((uint8_t *)packed + offset);
    for (size_t m0 = 0; m0 < p->M; m0 += NEON_MR) {
        for (size_t k = 0; k < p->K; k++) {
            for (size_t r = 0; r < NEON_MR; r++) *o++ = (int16_t)(m0 + r < p->M ? W[(m0 + r) * ldw + k] : 0);
        }
    }
    return FLOTILLA_Q8_OK;
}

size_t flotilla_q8_gemm_pack_size__neondot(size_t M, size_t K) { return quads_pack_size(M, K, NEONDOT_MR); }

flotilla_q8_status flotilla_q8_gemm_pack_4x16__neondot(const flotilla_q8_gemm_pack_params *p,
                                                       const int8_t *W, size_t ldw,
                                                       const int32_t *bias, void *packed) {
    return pack_quads_layout(p, W, ldw, bias, packed, FLOTILLA_Q8_LAYOUT_NEONDOT, NEONDOT_MR, z_eff_s8(p));
}

static const flotilla_q8_gemm_packer packers[] = {
    {"reference", flotilla_q8_gemm_pack_size__ref, flotilla_q8_gemm_pack__ref},
    {"avx2", flotilla_q8_gemm_pack_size__avx2, flotilla_q8_gemm_pack_4x16__avx2},
    {"avx512vnni", flotilla_q8_gemm_pack_size__avx512vnni, flotilla_q8_gemm_pack_8x32__avx512vnni},
    {"neon", flotilla_q8_gemm_pack_size__neon, flotilla_q8_gemm_pack_4x16__neon},
    {"neondot", flotilla_q8_gemm_pack_size__neondot, flotilla_q8_gemm_pack_4x16__neondot},
};

const flotilla_q8_gemm_packer *flotilla_q8_gemm_packer_named(const char *name) {
    if (name == NULL) return NULL;
    for (size_t i = 0; i < sizeof packers / sizeof packers[0]; i++) {
        if (strcmp(packers[i].name, name) == 0) return &packers[i];
    }
    return NULL;
}

// Quads layout (VNNI, AVX2 maddubs, NEON dot): [panel][k/4][row][4] bytes.
static void unpack_quads(const int8_t *src, size_t M, size_t K, size_t mr, int8_t *W) {
    const size_t k4 = flotilla_q8_round_up(K, 4) / 4;
    for (size_t m = 0; m < M; m++) {
        for (size_t k = 0; k < K; k++) {
            const size_t pn = m / mr, r = m % mr, g = k / 4, j = k % 4;
            W[m * K + k] = src[((pn * k4 + g) * mr + r) * 4 + j];
        }
    }
}

flotilla_q8_status flotilla_q8_gemm_unpack_weights(const void *packed, size_t size, int8_t *W) {
    flotilla_q8_packed_header h;
    if (packed == NULL || W == NULL || size < sizeof h) return FLOTILLA_Q8_PACK_MISMATCH;
    memcpy(&h, packed, sizeof h);
    const size_t M = h.M, K = h.K;
    if (h.magic != FLOTILLA_Q8_PACK_MAGIC || M == 0 || K == 0 || K > FLOTILLA_Q8_MAX_K) return FLOTILLA_Q8_PACK_MISMATCH;
    size_t need = 0, mr = 0;
    switch (h.layout) {
    case FLOTILLA_Q8_LAYOUT_REFERENCE: need = flotilla_q8_gemm_pack_size__ref(M, K), mr = 1; break;
    case FLOTILLA_Q8_LAYOUT_AVX512VNNI: need = flotilla_q8_gemm_pack_size__avx512vnni(M, K), mr = VNNI_MR; break;
    case FLOTILLA_Q8_LAYOUT_AVX2_WIDEN:
    case FLOTILLA_Q8_LAYOUT_AVX2_MADDUBS: need = flotilla_q8_gemm_pack_size__avx2(M, K), mr = AVX2_MR; break;
    case FLOTILLA_Q8_LAYOUT_NEON: need = flotilla_q8_gemm_pack_size__neon(M, K), mr = NEON_MR; break;
    case FLOTILLA_Q8_LAYOUT_NEONDOT: need = flotilla_q8_gemm_pack_size__neondot(M, K), mr = NEONDOT_MR; break;
    default: return FLOTILLA_Q8_PACK_MISMATCH;
    }
    const size_t offset = sizeof h + flotilla_q8_round_up(flotilla_q8_round_up(M, mr) * sizeof(int32_t), 64);
    if (size < need || h.mr != mr || h.weights_offset != offset) return FLOTILLA_Q8_PACK_MISMATCH;
    const int8_t *src = (const int8_t *)packed + offset;
    switch (h.layout) {
    case FLOTILLA_Q8_LAYOUT_REFERENCE: memcpy(W, src, M * K); break;
    case FLOTILLA_Q8_LAYOUT_AVX512VNNI:
    case FLOTILLA_Q8_LAYOUT_AVX2_MADDUBS:
    case FLOTILLA_Q8_LAYOUT_NEONDOT: unpack_quads(src, M, K, mr, W); break;
    case FLOTILLA_Q8_LAYOUT_AVX2_WIDEN: {
        const size_t k4 = flotilla_q8_round_up(K, 4) / 4;
        for (size_t m = 0; m < M; m++) {
            for (size_t g = 0; g < k4; g++) {
                for (size_t j = 0; j < 4; j++) {
                    const size_t k = g * 4 + avx2_widen_order[j];
                    if (k >= K) continue;
                    int16_t v;
                    memcpy(&v, src + 2 * ((((m / mr) * k4 + g) * mr + m % mr) * 4 + j), sizeof v);
                    W[m * K + k] = (int8_t)v;
                }
            }
        }
        break;
    }
    case FLOTILLA_Q8_LAYOUT_NEON:
        for (size_t m = 0; m < M; m++) {
            for (size_t k = 0; k < K; k++) {
                int16_t v;
                memcpy(&v, src + 2 * (((m / mr) * K + k) * mr + m % mr), sizeof v);
                W[m * K + k] = (int8_t)v;
            }
        }
        break;
    default: return FLOTILLA_Q8_PACK_MISMATCH;
    }
    return FLOTILLA_Q8_OK;
}
