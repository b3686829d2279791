#!/usr/bin/env bash
# Models quantized elsewhere in QOperator integer form: ONNX Runtime's quantize_dynamic
# (DynamicQuantizeLinear → MatMulInteger / ConvInteger → Cast → Mul) on the fp32 fixtures,
# generated here by make_models.py, then Flotilla vs ONNX Runtime 1.31.1 on the same files,
# single thread, batch 1, p50 and their ratio.
# Usage: bash benchmarks/int8/dynamic/run.sh  (RUNS=..., WARMUP=..., MODELS="...")
set -euo pipefail
cd "$(dirname "$0")/../../.."
RUNS=${RUNS:-1000}
WARMUP=${WARMUP:-100}
MODELS=${MODELS:-"digits_mlp digits_cnn mobilenetv2_shaped"}
HERE=benchmarks/int8/dynamic
OUT=$HERE/out
FIX=Tests/Fixtures
mkdir -p "$OUT"

# shellcheck source=../../lib/flotilla.sh
source benchmarks/lib/flotilla.sh
build_flotilla release
require_onnxruntime
python3 -c 'import onnx' 2>/dev/null || python3 -m pip install --quiet onnx >&2

# shellcheck disable=SC2086
python3 "$HERE/make_models.py" "$FIX" "$OUT" $MODELS

# Batch-1 float32 inputs: the first test digit (flat for the MLP), the MobileNet fixture input.
python3 - "$FIX" "$OUT" <<'PY'
import sys, numpy as np
fix, out = sys.argv[1:]
np.save(f"{out}/digits_mlp.input.npy", np.ascontiguousarray(np.load(f"{fix}/digits/test_x_flat.npy")[:1].astype(np.float32)))
np.save(f"{out}/digits_cnn.input.npy", np.ascontiguousarray(np.load(f"{fix}/digits/test_x.npy")[:1].astype(np.float32)))
np.save(f"{out}/mobilenetv2_shaped.input.npy", np.load(f"{fix}/mobilenetv2_shaped.input.npy"))
PY

for m in $MODELS; do
    model="$OUT/$m.dynamic.onnx"
    in="$OUT/$m.input.npy"
    echo "== $m: flotilla" >&2
    "$BIN" bench "$model" --input "$in" --runs "$RUNS" --warmup "$WARMUP" --json > "$OUT/$m.flotilla.json"
    echo "== $m: onnxruntime" >&2
    python3 benchmarks/int8/ort_bench.py --model "$model" --input "$in" --runs "$RUNS" --warmup "$WARMUP" > "$OUT/$m.ort.json"
done

# shellcheck disable=SC2086
python3 "$HERE/report.py" "$OUT" $MODELS | tee "$OUT/table.md"
