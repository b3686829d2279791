#!/usr/bin/env python3
"""Single-thread latency of one model on ONNX Runtime (CPU EP), printed as JSON.

The peer figure for `flotilla bench`: same model, same input, one intra-op and one inter-op
thread, graph optimizations at ORT's default (ORT_ENABLE_ALL). Two loops are timed and both
reported: `sess.run` as most Python users call it, and `run_with_iobinding` with the input
bound once and the output preallocated (the least Python overhead ORT offers; closest to
`flotilla bench`, which also writes into preallocated output buffers). The report uses the
faster of the two, which favours ORT.
"""
import argparse
import os
import sys
import json
import resource

import numpy as np
import onnxruntime as ort

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ort_timing import single_thread_options, time_loops  # noqa: E402




def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--runs", type=int, default=500)
    p.add_argument("--warmup", type=int, default=50)
    a = p.parse_args()

    x = np.load(a.input)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    so = single_thread_options()
    sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name

    s_plain, s_bound = time_loops(sess, name, x, a.warmup, a.runs)

    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
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
        # ORT does not expose its memory-pattern arena peak in Python; the growth of the
        # process's peak RSS over session creation and the runs (weights, prepacked weights,
        # arena, and allocator slack) is the closest outside view.
        "peak_rss_growth_bytes": int(max(rss_after - rss_before, 0) * 1024),
    }, indent=1))


if __name__ == "__main__":
    main()
