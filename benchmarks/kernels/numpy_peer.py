"""numpy (OpenBLAS sgemm) at the benchmark's GEMM shapes, single-threaded; prints TSV rows
`gemm <label> M N K numpy GFLOP/s` (best of several runs) and which BLAS kernel ran."""
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info

SHAPES = [
    ("mnv2-stem-3x3s2", 32, 12544, 27), ("mnv2-b1-expand", 96, 12544, 16),
    ("mnv2-b2-project", 24, 3136, 144), ("mnv2-b3-expand", 144, 3136, 24),
    ("mnv2-b4-project", 32, 784, 192), ("mnv2-b5-expand", 192, 784, 32),
    ("mnv2-b8-expand", 384, 196, 64), ("mnv2-b14-expand", 960, 49, 160),
    ("mnv2-b17-project", 320, 49, 960), ("mnv2-last-1x1", 1280, 49, 320),
    ("wide-320x784x960", 320, 784, 960), ("square-512", 512, 512, 512),
    ("square-1024", 1024, 1024, 1024),
]

quick = "--quick" in sys.argv
rng = np.random.default_rng(0)
for info in threadpool_info():
    if info.get("internal_api") == "openblas":
        print(f"blas\t{info.get('internal_api')} {info.get('version')} "
              f"core={info.get('architecture')} threads={info.get('num_threads')}")
for label, m, n, k in SHAPES:
    if quick and label == "square-1024":
        continue
    a = rng.random((m, k), dtype=np.float32)
    b = rng.random((k, n), dtype=np.float32)
    c = np.empty((m, n), dtype=np.float32)
    best, spent, reps = float("inf"), 0.0, 0
    while reps < 3 or (spent < 0.3 and reps < 200):
        t0 = time.perf_counter()
        np.matmul(a, b, out=c)
        dt = time.perf_counter() - t0
        best, spent, reps = min(best, dt), spent + dt, reps + 1
    print(f"gemm\t{label}\t{m}\t{n}\t{k}\tnumpy\t{2.0 * m * n * k / best / 1e9:.2f}", flush=True)
