// Convolution geometry: plan-time validation, output sizes and the depthwise interior range.
#include "f32_internal.h"

#include <stdint.h>

// a * b + c without wrapping; false when it would overflow.
static bool mul_add(size_t a, size_t b, size_t c, size_t *out) {
    if (b != 0 && a > (SIZE_MAX - c) / b) return false;
    *out = a * b + c;
    return true;
}

// Extent of the dilated kernel minus one, and padded input size; false on overflow.
static bool extents(size_t in, size_t pad0, size_t pad1, size_t kernel, size_t dilation,
                    size_t *span, size_t *padded) {
    if (!mul_add(dilation, kernel - 1, 0, span)) return false;
    if (!mul_add(in, 1, pad0, padded)) return false;
    if (!mul_add(*padded, 1, pad1, padded)) return false;
    return true;
}

flotilla_f32_geometry_status flotilla_f32_conv2d_geometry_check(const flotilla_f32_conv2d_geometry *g) {
    if (g->channels == 0 || g->in_h == 0 || g->in_w == 0 || g->kernel_h == 0 || g->kernel_w == 0)
        return FLOTILLA_F32_GEOMETRY_ZERO_DIMENSION;
    if (g->stride_h == 0 || g->stride_w == 0) return FLOTILLA_F32_GEOMETRY_ZERO_STRIDE;
    if (g->dilation_h == 0 || g->dilation_w == 0) return FLOTILLA_F32_GEOMETRY_ZERO_DILATION;
    size_t span_h, span_w, padded_h, padded_w;
    if (!extents(g->in_h, g->pad_top, g->pad_bottom, g->kernel_h, g->dilation_h, &span_h, &padded_h) ||
        !extents(g->in_w, g->pad_left, g->pad_right, g->kernel_w, g->dilation_w, &span_w, &padded_w))
        return FLOTILLA_F32_GEOMETRY_TOO_LARGE;
    if (span_h >= padded_h || span_w >= padded_w) return FLOTILLA_F32_GEOMETRY_EMPTY_OUTPUT;
    // The kernels index input and column buffers with size_t: every buffer size must fit.
    const size_t oh = flotilla_f32_conv2d_out_h(g), ow = flotilla_f32_conv2d_out_w(g);
    size_t plane, taps, cols, total;
    if (!mul_add(oh, ow, 0, &plane) || !mul_add(g->kernel_h, g->kernel_w, 0, &taps) ||
        !mul_add(g->channels, taps, 0, &cols) || !mul_add(cols, plane, 0, &total) ||
        !mul_add(g->in_h, g->in_w, 0, &plane) || !mul_add(g->channels, plane, 0, &total) ||
        total > SIZE_MAX / sizeof(float) || padded_h > (size_t)PTRDIFF_MAX ||
        padded_w > (size_t)PTRDIFF_MAX)
        return FLOTILLA_F32_GEOMETRY_TOO_LARGE;
    return FLOTILLA_F32_GEOMETRY_OK;
}

size_t flotilla_f32_conv2d_out_h(const flotilla_f32_conv2d_geometry *g) {
    return (g->in_h + g->pad_top + g->pad_bottom - g->dilation_h * (g->kernel_h - 1) - 1) / g->stride_h + 1;
}

size_t flotilla_f32_conv2d_out_w(const flotilla_f32_conv2d_geometry *g) {
    return (g->in_w + g->pad_left + g->pad_right - g->dilation_w * (g->kernel_w - 1) - 1) / g->stride_w + 1;
}

void flotilla_f32_dwconv_interior_x(const flotilla_f32_conv2d_geometry *g, size_t out_w,
                                    size_t *lo, size_t *hi) {
    // First tap in bounds: ox·s ≥ pad_left. Last tap in bounds: ox·s − pad_left + span ≤ in_w − 1.
    const size_t s = g->stride_w, span = g->dilation_w * (g->kernel_w - 1);
    size_t first = (g->pad_left + s - 1) / s;
    size_t end = 0;  // one past the last interior column
    if (g->in_w + g->pad_left > span) end = (g->in_w - 1 + g->pad_left - span) / s + 1;
    if (end > out_w) end = out_w;
    if (first > end) first = end;
    *lo = first;
    *hi = end;
}
