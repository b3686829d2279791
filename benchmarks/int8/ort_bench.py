#!/usr/bin/env python3
"""Single-thread latency and memory of one model on ONNX Runtime (CPU EP), printed as JSON.

The peer figure for `flotilla bench` on the int8 fixtures: one intra-op and one inter-op thread,
ORT_ENABLE_ALL (ORT's default; on a QDQ file it fuses DQ → op → Q into its QLinear* / QGemm
kernels and pre-packs their weights). Two loops are timed, `sess.run` and `run_with_iobinding`
(input bound once, output preallocated); the faster one is reported, which favours ORT.

Memory: ORT's Python API does not expose its arena peak, so the process's resident set is read
from /proc/self/status around session creation and the first run: VmRSS growth (what stays
resident: weights, pre-packed weights, the arena after the first run, allocator slack) and
VmHWM growth (peak). Both are outside views, upper bounds of what ORT itself holds.
"""
import argparse
import os
import sys
import json

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ort_timing import single_thread_options, time_loops  # noqa: E402


def status_kib(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def reset_peak():
    # Linux: writing 5 to clear_refs resets VmHWM to the current RSS (kernel ≥ 4.0).
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False




def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--runs", type=int, default=500)
    p.add_argument("--warmup", type=int, default=50)
    a = p.parse_args()

    x = np.load(a.input)
    so = single_thread_options()

    peak_reset = reset_peak()
    rss0, hwm0 = status_kib("VmRSS"), status_kib("VmHWM")
    sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    feed = {name: x}
    sess.run(None, feed)
    rss1, hwm1 = status_kib("VmRSS"), status_kib("VmHWM")

    s_plain, s_bound = time_loops(sess, name, x, a.warmup, a.runs)

    best = s_bound if s_bound["p50"] <= s_plain["p50"] else s_plain
    print(json.dumps({
        "onnxruntime": ort.__version__,
        "model": a.model,
        "input_shape": list(x.shape),
        "threads": 1,
        "graph_optimization_level": "ORT_ENABLE_ALL",
        "latency_us": best,
        "method": "run_with_iobinding" if best is s_bound else "run",
        "run_latency_us": s_plain,
        "iobinding_latency_us": s_bound,
        "rss_growth_bytes": max(rss1 - rss0, 0) * 1024,
        "peak_rss_growth_bytes": max(hwm1 - hwm0, 0) * 1024 if peak_reset else None,
    }, indent=1))


if __name__ == "__main__":
    main()
