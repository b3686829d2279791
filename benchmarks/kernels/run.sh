#!/usr/bin/env bash
# fp32 kernel benchmark: builds the CKernels C sources with gcc -O2 (as a plain C program, not
# through SwiftPM), runs every path single-threaded at MobileNetV2 GEMM shapes and large
# squares, runs numpy's matmul (OpenBLAS, one thread) at the same shapes in the same run, and
# prints both with ratios. `--quick` skips the 1024³ square.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$here/bin"
mkdir -p "$bin"

gcc -std=gnu11 -O2 -Wall -Wextra -Werror -I"$root/Sources/CKernels/include" -I"$root/Sources/CKernels" \
    "$root"/Sources/CKernels/*.c "$here/bench.c" -o "$bin/bench" -lpthread

"$bin/bench" "$@" | tee "$bin/ours.tsv"
# The machine sets OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for old OpenBLAS builds; they slow a
# current numpy, so they are unset for the peer only (threadpoolctl prints the kernel it runs).
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
    python3 "$here/numpy_peer.py" "$@" | tee "$bin/numpy.tsv"
echo
python3 "$here/report.py" "$bin/ours.tsv" "$bin/numpy.tsv"
