#!/usr/bin/env bash
# int8 depthwise benchmark: builds the CKernels C sources with clang -O2 (what SwiftPM's release
# build uses; gcc when there is no clang; CC overrides) as a plain C program and
# prints, per x86 path this CPU runs, the planar and the channels-last depthwise and the entry
# point's choice on MobileNetV2-at-96×96's depthwise layers and on a channels × plane grid
# (3×3, pad 1, stride 1 and 2), then the NHWC entry against the NCHW one and transpose8 at
# MobileNet's NCHW ↔ NHWC edges. `--grid` adds the grid, `--nhwc` prints only the NHWC tables;
# the figures are the best of many runs.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$here/bin"
mkdir -p "$bin"
# The compiler matters: gcc and clang differ by up to 2× on some of these kernels (session 5:
# AVX2 channels-last with a run-time lane count), so the rule is measured with SwiftPM's.
cc="${CC:-$(command -v clang || command -v gcc)}"
"$cc" -std=gnu11 -O2 -Wall -Wextra -Werror -I"$root/Sources/CKernels/include" -I"$root/Sources/CKernels" \
    "$root"/Sources/CKernels/*.c "$here/bench.c" -o "$bin/bench" -lpthread -lm
"$bin/bench" "$@"
