#!/usr/bin/env bash
# fp32 single-thread, batch-1 latency: `flotilla bench` beside ONNX Runtime on the same model
# and the same input, in one run. Usage: bash benchmarks/fp32/run.sh  (RUNS=..., WARMUP=...)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-1000}
WARMUP=${WARMUP:-100}
OUT=benchmarks/fp32/out
FIX=Tests/Fixtures
MODELS="digits_cnn digits_mlp mobilenetv2_shaped"
mkdir -p "$OUT"

# shellcheck source=../lib/flotilla.sh
source benchmarks/lib/flotilla.sh
build_flotilla release
require_onnxruntime

# The same batch-1 inputs for both runtimes: the first test digit, and the MobileNet fixture input.
python3 - "$FIX" "$OUT" <<'PY'
import sys, numpy as np
fix, out = sys.argv[1:]
np.save(f"{out}/digits_cnn.input.npy", np.ascontiguousarray(np.load(f"{fix}/digits/test_x.npy")[:1]))
np.save(f"{out}/digits_mlp.input.npy", np.ascontiguousarray(np.load(f"{fix}/digits/test_x_flat.npy")[:1]))
np.save(f"{out}/mobilenetv2_shaped.input.npy", np.load(f"{fix}/mobilenetv2_shaped.input.npy"))
PY

for m in $MODELS; do
    echo "== $m: flotilla" >&2
    "$BIN" bench "$FIX/$m.onnx" --input "$OUT/$m.input.npy" --runs "$RUNS" --warmup "$WARMUP" --json > "$OUT/$m.flotilla.json"
    "$BIN" bench "$FIX/$m.onnx" --input "$OUT/$m.input.npy" --runs 200 --warmup 20 --profile > "$OUT/$m.profile.txt"
    echo "== $m: onnxruntime" >&2
    python3 benchmarks/fp32/ort_bench.py --model "$FIX/$m.onnx" --input "$OUT/$m.input.npy" --runs "$RUNS" --warmup "$WARMUP" \
        > "$OUT/$m.ort.json"
done

python3 benchmarks/fp32/report.py "$OUT" $MODELS | tee "$OUT/table.md"
echo "(per-node profiles: $OUT/<model>.profile.txt)"
