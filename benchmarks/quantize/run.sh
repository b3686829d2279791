#!/usr/bin/env bash
# `flotilla quantize --artifacts` per hardware class beside ONNX Runtime's quantize_static on the
# same model, calibration and evaluation data, from one run: build time and int8 top-1 per class
# (ORT: best of MinMax/Entropy/Percentile, per-channel QDQ u8s8), and peak memory (max RSS from
# /usr/bin/time -v) with 100 vs 1000 calibration samples for both.
# Usage: bash benchmarks/quantize/run.sh   (CONFIG=debug to use the debug build; CLASSES=...)
set -euo pipefail
cd "$(dirname "$0")/../.."
CONFIG=${CONFIG:-release}
CLASSES=${CLASSES:-"x86_64-avx2 x86_64-avx512-vnni arm64-neon arm64-dotprod mcu-per-tensor"}
OUT=benchmarks/quantize/out
FIX=Tests/Fixtures
MODEL=$FIX/digits_cnn.onnx
rm -rf "$OUT" && mkdir -p "$OUT"

echo "== building flotilla ($CONFIG)" >&2
swift build -c "$CONFIG" --product flotilla >&2
BIN="$(swift build -c "$CONFIG" --show-bin-path)/flotilla"

# Calibration sets of 100 and 1000 samples from the training split (1197 samples), the
# evaluation set is the test split (400).
python3 - "$FIX" "$OUT" <<'PY'
import sys, numpy as np
fix, out = sys.argv[1:]
x = np.load(f"{fix}/digits/train_x.npy")
for n in (100, 1000):
    np.save(f"{out}/cal{n}.npy", np.ascontiguousarray(x[:n]))
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

ours() {  # class calibration-size
    local dir="$OUT/flotilla-$1-$2"
    /usr/bin/time -v -o "$dir.time" "$BIN" quantize "$MODEL" --calibration "$OUT/cal$2.npy" \
        --eval "$FIX/digits/test_x.npy" --labels "$FIX/digits/test_y.npy" --class "$1" --budget 0.5 \
        -o "$dir" --artifacts --key "$KEY" > "$dir.stdout" 2> "$dir.stderr" || true
}
for c in $CLASSES; do
    echo "== flotilla $c (1000 calibration samples)" >&2
    ours "$c" 1000
done
echo "== flotilla x86_64-avx2 (100 calibration samples)" >&2
ours x86_64-avx2 100

ort() {  # name calibration-size methods
    /usr/bin/time -v -o "$OUT/$1.time" python3 benchmarks/quantize/ort_quantize.py --model "$MODEL" \
        --calibration "$OUT/cal$2.npy" --eval "$FIX/digits/test_x.npy" --labels "$FIX/digits/test_y.npy" \
        --methods "$3" > "$OUT/$1.json"
}
echo "== onnxruntime quantize_static, every method (1000 calibration samples)" >&2
ort ort-1000 1000 MinMax,Entropy,Percentile
# Memory: Entropy alone (histograms, like ours), 100 vs 1000 samples.
for n in 100 1000; do
    echo "== onnxruntime quantize_static, Entropy ($n calibration samples)" >&2
    ort ort-entropy-$n $n Entropy
done
# Python + numpy + onnx + ORT themselves: the baseline the ORT peaks include.
/usr/bin/time -v -o "$OUT/ort-baseline.time" python3 -c "import numpy, onnx, onnxruntime, onnxruntime.quantization"

python3 benchmarks/quantize/report.py "$OUT" $CLASSES | tee "$OUT/table.md"
