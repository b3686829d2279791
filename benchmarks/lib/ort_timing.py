"""ONNX Runtime timing shared by the fp32 and int8 benchmarks' ort_bench.py scripts.

One intra-op and one inter-op thread, ORT's default graph optimizations (ORT_ENABLE_ALL), and
two timed loops: `sess.run` as most Python users call it, and `run_with_iobinding` with the
input bound once and the output preallocated (the least Python overhead ORT offers). Callers
report the faster loop, which favours ORT.
"""
import time

import numpy as np
import onnxruntime as ort


def single_thread_options():
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return so


def stats(samples_ns):
    us = np.asarray(samples_ns, dtype=np.float64) / 1000.0
    return {
        "runs": int(us.size), "min": float(us.min()), "p50": float(np.percentile(us, 50)),
        "p95": float(np.percentile(us, 95)), "p99": float(np.percentile(us, 99)),
        "mean": float(us.mean()), "max": float(us.max()),
    }


def time_loops(sess, name, x, warmup, runs):
    """(plain, bound) latency stats of `sess` on input `name` = `x`, each after `warmup` runs."""
    feed = {name: x}
    for _ in range(warmup):
        sess.run(None, feed)
    plain = []
    for _ in range(runs):
        t = time.perf_counter_ns()
        sess.run(None, feed)
        plain.append(time.perf_counter_ns() - t)

    binding = sess.io_binding()
    binding.bind_cpu_input(name, x)
    for o in sess.get_outputs():
        binding.bind_output(o.name, "cpu")
    for _ in range(warmup):
        sess.run_with_iobinding(binding)
    bound = []
    for _ in range(runs):
        t = time.perf_counter_ns()
        sess.run_with_iobinding(binding)
        bound.append(time.perf_counter_ns() - t)
    return stats(plain), stats(bound)
