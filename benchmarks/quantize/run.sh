#!/usr/bin/env bash
# `flotilla quantize --artifacts` per hardware class beside ONNX Runtime's quantize_static on the
# same model, calibration and evaluation data, from one run, for each digits fixture (the CNN and
# the MLP): build time and int8 top-1 per class (ORT: best of MinMax/Entropy/Percentile,
# per-channel QDQ u8s8), drops vs fp32, the spread between classes, and peak memory (max RSS from
# /usr/bin/time -v) with 100, 1000 and 10 000 calibration samples for both.
# Usage: bash benchmarks/quantize/run.sh   (CONFIG=debug to use the debug build; CLASSES=...;
#        MODELS="digits_cnn digits_mlp"; FLOTILLA_BIN=path skips the build and uses that binary)
set -euo pipefail
cd "$(dirname "$0")/../.."
CONFIG=${CONFIG:-release}
CLASSES=${CLASSES:-"x86_64-avx2 x86_64-avx512-vnni arm64-neon arm64-dotprod mcu-per-tensor"}
MODELS=${MODELS:-"digits_cnn digits_mlp"}
OUT=benchmarks/quantize/out
FIX=Tests/Fixtures
rm -rf "$OUT" && mkdir -p "$OUT"

if [ -n "${FLOTILLA_BIN:-}" ]; then
    BIN=$FLOTILLA_BIN  # an already built binary (its build configuration is the caller's word)
else
    # shellcheck source=../lib/flotilla.sh
    source benchmarks/lib/flotilla.sh
    build_flotilla "$CONFIG"
fi

# Calibration sets of 100, 1000 (and 10 000) samples from the training split (1197 samples), in the
# image layout (CNN) and flattened (MLP); the evaluation set is the test split (400).
python3 - "$FIX" "$OUT" <<'PY'
import sys, numpy as np
fix, out = sys.argv[1:]
x = np.load(f"{fix}/digits/train_x.npy")
# 10 000 = the training split repeated (only the memory rows use it: more samples than exist).
x = np.concatenate([x] * 9)
for n in (100, 1000, 10000):
    np.save(f"{out}/digits_cnn-cal{n}.npy", np.ascontiguousarray(x[:n]))
    np.save(f"{out}/digits_mlp-cal{n}.npy", np.ascontiguousarray(x[:n].reshape(n, -1)))
PY

KEY="$OUT/key.pem"
python3 - "$KEY" <<'PY'
import os, sys
# A throwaway Ed25519 PKCS#8 key: the fixed DER prefix + 32 random bytes, mode 0600.
import base64
der = bytes.fromhex("302e020100300506032b657004220420") + os.urandom(32)
pem = "-----BEGIN PRIVATE KEY-----\n" + base64.b64encode(der).decode() + "\n-----END PRIVATE KEY-----\n"
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, pem.encode()); os.close(fd)
PY

evalset() { [ "$1" = digits_mlp ] && echo "$FIX/digits/test_x_flat.npy" || echo "$FIX/digits/test_x.npy"; }

ours() {  # model class calibration-size budget [run-suffix]
    local dir="$OUT/flotilla-$1-$2-$3${5:-}"
    /usr/bin/time -v -o "$dir.time" "$BIN" quantize "$FIX/$1.onnx" --calibration "$OUT/$1-cal$3.npy" \
        --eval "$(evalset "$1")" --labels "$FIX/digits/test_y.npy" --class "$2" --budget "$4" \
        -o "$dir" --artifacts --key "$KEY" > "$dir.stdout" 2> "$dir.stderr" || true
}
ort() {  # model name calibration-size methods
    /usr/bin/time -v -o "$OUT/$1-$2.time" python3 benchmarks/quantize/ort_quantize.py --model "$FIX/$1.onnx" \
        --calibration "$OUT/$1-cal$3.npy" --eval "$(evalset "$1")" --labels "$FIX/digits/test_y.npy" \
        --methods "$4" > "$OUT/$1-$2.json"
}
for m in $MODELS; do
    echo "== $m: onnxruntime quantize_static, every method (1000 calibration samples)" >&2
    ort "$m" ort-1000 1000 MinMax,Entropy,Percentile
    # Memory: Entropy alone (histograms, like ours), 100 vs 1000 vs 10 000 samples.
    for n in 100 1000 10000; do
        echo "== $m: onnxruntime quantize_static, Entropy ($n calibration samples)" >&2
        ort "$m" ort-entropy-$n $n Entropy
    done
    # Our budget is the target itself: no larger a drop than ORT's best, and at most 0.5 points
    # (the tuner stops at the first candidate within its budget, so a looser budget would let a
    # class stop short of ORT's accuracy).
    BUDGET=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); b=max(m['int8_accuracy'] for m in r['methods'].values()); print(f\"{max(0.0, min(0.5, (r['fp32_accuracy'] - b) * 100)):.4f}\")" "$OUT/$m-ort-1000.json")
    echo "$BUDGET" > "$OUT/$m-budget.txt"
    for c in $CLASSES; do
        echo "== $m: flotilla $c (1000 calibration samples, budget $BUDGET pt)" >&2
        ours "$m" "$c" 1000 "$BUDGET"
    done
    echo "== $m: flotilla x86_64-avx2 (100 calibration samples)" >&2
    ours "$m" x86_64-avx2 100 "$BUDGET"
    # Peak RSS moves by a few MiB from run to run (malloc arenas of the plan's threads): four more
    # runs at each size, the table shows their median and range.
    ours "$m" x86_64-avx2 10000 "$BUDGET"
    for n in 100 1000 10000; do
        for r in 2 3 4 5; do ours "$m" x86_64-avx2 "$n" "$BUDGET" "-run$r"; done
    done
done
# Python + numpy + onnx + ORT themselves: the baseline the ORT peaks include.
/usr/bin/time -v -o "$OUT/ort-baseline.time" python3 -c "import numpy, onnx, onnxruntime, onnxruntime.quantization"

echo "flotilla binary: $BIN" > "$OUT/table.md"
python3 benchmarks/quantize/report.py "$OUT" "$MODELS" $CLASSES | tee -a "$OUT/table.md"
