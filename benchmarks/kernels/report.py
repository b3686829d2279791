"""Joins the C benchmark's and numpy's TSV rows into one table with ratios to numpy and peak."""
import sys
from collections import OrderedDict

rows, meta = OrderedDict(), {}
for path in sys.argv[1:]:
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if f[0] in ("gemm", "dwconv"):
            rows.setdefault((f[0], f[1], f[2], f[3], f[4]), {})[f[5]] = float(f[6])
        elif len(f) == 2:
            meta[f[0]] = f[1]

ghz = float(meta.get("clock", "0"))
flop_cycle = float(meta.get("fma_flop_per_cycle", "0"))
peak = ghz * round(flop_cycle) if flop_cycle else 0.0
print(f"clock {ghz:.2f} GHz (measured); FMA throughput {flop_cycle:.1f} flop/cycle (measured) "
      f"-> peak {peak:.1f} GFLOP/s single core; {meta.get('blas', 'numpy BLAS unknown')}")
print()
print(f"{'GEMM shape':<18} {'M':>5} {'N':>6} {'K':>5} {'ref':>6} {'avx2':>6} {'avx512':>7} {'numpy':>7}"
      f" {'avx512/numpy':>12} {'avx512/peak':>11}")
for (kind, label, m, n, k), v in rows.items():
    if kind != "gemm":
        continue
    best = v.get("avx512", v.get("avx2", 0.0))
    ratio = f"{best / v['numpy']:.2f}" if v.get("numpy") else "-"
    of_peak = f"{100 * best / peak:.0f}%" if peak else "-"
    cell = lambda p: f"{v[p]:.1f}" if p in v else "-"
    print(f"{label:<18} {m:>5} {n:>6} {k:>5} {cell('reference'):>6} {cell('avx2'):>6} {cell('avx512'):>7}"
          f" {cell('numpy'):>7} {ratio:>12} {of_peak:>11}")
print()
print(f"{'depthwise 3x3':<18} {'C':>5} {'H=W':>6} {'s':>5} {'ref':>6} {'avx2':>6} {'avx512':>7}  (GFLOP/s)")
for (kind, label, c, h, s), v in rows.items():
    if kind != "dwconv":
        continue
    cell = lambda p: f"{v[p]:.1f}" if p in v else "-"
    print(f"{label:<18} {c:>5} {h:>6} {s:>5} {cell('reference'):>6} {cell('avx2'):>6} {cell('avx512'):>7}")
