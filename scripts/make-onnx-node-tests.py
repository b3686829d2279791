#!/usr/bin/env python3
"""Write ONNX's backend node tests to disk, for Flotilla's conformance test.

    python3 scripts/make-onnx-node-tests.py --out .build/onnx-node-tests

The onnx wheel does not ship onnx/backend/test/data/node, but it ships the generators
(onnx.backend.test.case.node). This script runs them and writes the layout ONNX itself uses:

    DIR/node/<test_name>/model.onnx
    DIR/node/<test_name>/test_data_set_<i>/input_<j>.pb, output_<j>.pb

Tensors are TensorProto; sequence, map and optional values are SequenceProto, MapProto and
OptionalProto (onnx-data.proto), exactly as onnx/backend/test/cmd_tools.py `generate_data`
writes them. DIR/index.json lists every case: name, op types in the model (subgraphs
included), opsets, rtol, atol and the types of its inputs and outputs.

Deterministic: numpy's global RNG (which the generators use without seeding) is seeded first,
so two runs with the same onnx write identical bytes. Idempotent: if DIR/index.json was written
by this script version for the installed onnx version, nothing is done (use --force to rewrite).

Exit codes: 0 done, 2 bad usage, 3 onnx (or numpy) not installed, 4 wrong onnx version.
"""

import argparse
import json
import os
import shutil
import sys
import time
import warnings

ONNX_VERSION = "1.23.2"
SCRIPT_VERSION = "2"
SEED = 0
PIP_HINT = "python3 -m pip install -r scripts/requirements-test.txt"
EXIT_MISSING, EXIT_WRONG_VERSION = 3, 4
T0 = time.monotonic()


def log(message):
    print(f"[{time.monotonic() - T0:5.1f}s] {message}", flush=True)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output directory (created if missing)")
    p.add_argument("--force", action="store_true", help="rewrite even if DIR/index.json is current")
    return p.parse_args()


def import_onnx():
    try:
        import numpy  # noqa: F401
        import onnx
    except ImportError as e:
        print(f"make-onnx-node-tests: {e.name or 'onnx'} is not installed; install it with:\n  {PIP_HINT}", file=sys.stderr)
        sys.exit(EXIT_MISSING)
    if onnx.__version__ != ONNX_VERSION:
        print(
            f"make-onnx-node-tests: onnx {onnx.__version__} is installed, but the conformance test and its known-failures "
            f"list are pinned to onnx {ONNX_VERSION}; install it with:\n  {PIP_HINT}",
            file=sys.stderr,
        )
        sys.exit(EXIT_WRONG_VERSION)
    return onnx


def is_current(index_path):
    try:
        with open(index_path) as f:
            index = json.load(f)
    except (OSError, ValueError):
        return False
    return index.get("onnx_version") == ONNX_VERSION and index.get("script_version") == SCRIPT_VERSION


def type_string(onnx, t):
    """A TypeProto as 'float', 'seq(float)', 'optional(seq(int64))', 'map(int64,float)'."""
    kind = t.WhichOneof("value")
    if kind == "tensor_type":
        return dtype_name(onnx, t.tensor_type.elem_type)
    if kind == "sparse_tensor_type":
        return f"sparse({dtype_name(onnx, t.sparse_tensor_type.elem_type)})"
    if kind == "sequence_type":
        return f"seq({type_string(onnx, t.sequence_type.elem_type)})"
    if kind == "optional_type":
        return f"optional({type_string(onnx, t.optional_type.elem_type)})"
    if kind == "map_type":
        return f"map({dtype_name(onnx, t.map_type.key_type)},{type_string(onnx, t.map_type.value_type)})"
    return "unknown"


def dtype_name(onnx, code):
    # Lower-case TensorProto.DataType names: float, float16, bfloat16, float8e4m3fn, int4...
    try:
        return onnx.TensorProto.DataType.Name(code).lower()
    except ValueError:
        return f"dtype{code}"


def qualified(node):
    return f"{node.domain}:{node.op_type}" if node.domain not in ("", "ai.onnx") else node.op_type


def op_types(graph, out):
    for node in graph.node:
        out.add(qualified(node))
        for a in node.attribute:
            if a.HasField("g"):
                op_types(a.g, out)
            for g in a.graphs:
                op_types(g, out)
    return out


def serialize_value(onnx, value, value_info):
    """One input or output as cmd_tools.generate_data writes it."""
    from onnx import numpy_helper

    t = value_info.type
    if t.HasField("map_type"):
        return numpy_helper.from_dict(value, value_info.name)
    if t.HasField("sequence_type"):
        return numpy_helper.from_list(value, value_info.name)
    if t.HasField("optional_type"):
        return numpy_helper.from_optional(value, value_info.name)
    if isinstance(value, onnx.TensorProto):
        return value
    return numpy_helper.from_array(value, value_info.name)


def write_case(onnx, case, node_dir):
    case_dir = os.path.join(node_dir, case.name)
    os.makedirs(case_dir)
    model = case.model
    with open(os.path.join(case_dir, "model.onnx"), "wb") as f:
        f.write(model.SerializeToString(deterministic=True))
    for i, (inputs, outputs) in enumerate(case.data_sets):
        ds_dir = os.path.join(case_dir, f"test_data_set_{i}")
        os.makedirs(ds_dir)
        for prefix, values, infos in (("input", inputs, model.graph.input), ("output", outputs, model.graph.output)):
            if len(values) > len(infos):
                raise RuntimeError(f"{case.name}: {len(values)} {prefix}s for {len(infos)} graph {prefix}s")
            for j, value in enumerate(values):
                proto = serialize_value(onnx, value, infos[j])
                with open(os.path.join(ds_dir, f"{prefix}_{j}.pb"), "wb") as f:
                    f.write(proto.SerializeToString(deterministic=True))
    graph = model.graph
    return {
        "name": case.name,
        "op": qualified(graph.node[0]) if len(graph.node) == 1 else None,
        "ops": sorted(op_types(graph, set())),
        "opsets": {(o.domain or "ai.onnx"): o.version for o in model.opset_import},
        "rtol": case.rtol,
        "atol": case.atol,
        "data_sets": len(case.data_sets),
        "inputs": [{"name": v.name, "type": type_string(onnx, v.type)} for v in graph.input],
        "outputs": [{"name": v.name, "type": type_string(onnx, v.type)} for v in graph.output],
    }


def main():
    args = parse_args()
    onnx = import_onnx()
    out = os.path.abspath(args.out)
    index_path = os.path.join(out, "index.json")
    if not args.force and is_current(index_path):
        log(f"{index_path} is current (onnx {ONNX_VERSION}); nothing to do (--force rewrites)")
        return

    import numpy as np
    from onnx.backend.test.case import node as node_cases

    log(f"collecting node test cases from onnx {onnx.__version__}")
    np.random.seed(SEED)
    with warnings.catch_warnings():
        # The generators compute expected values with deliberate overflows, log(0), 0/0.
        warnings.simplefilter("ignore")
        cases = node_cases.collect_testcases(None)
    cases = [c for c in cases if c.kind == "node"]
    names = [c.name for c in cases]
    if len(set(names)) != len(names):
        raise RuntimeError("onnx returned duplicate test names")
    log(f"{len(cases)} cases; writing to {out}")

    # Write into a fresh sibling directory and swap it in, so an interrupted run never
    # leaves a half-written tree that looks complete.
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    staging = out + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    node_dir = os.path.join(staging, "node")
    os.makedirs(node_dir)
    entries = []
    for k, case in enumerate(sorted(cases, key=lambda c: c.name)):
        entries.append(write_case(onnx, case, node_dir))
        if (k + 1) % 250 == 0 or k + 1 == len(cases):
            log(f"  {k + 1}/{len(cases)} written")
    # The op a case tests: its single node's, or for a function-expanded case
    # (test_<x>_expanded[_ver<N>]) the op of the case it expands.
    by_name = {e["name"]: e for e in entries}
    for e in entries:
        if e["op"] is None:
            base = by_name.get(e["name"].split("_expanded")[0])
            e["op"] = base["op"] if base and base["op"] else (e["ops"][0] if e["ops"] else "?")
    index = {
        "onnx_version": onnx.__version__,
        "script_version": SCRIPT_VERSION,
        "seed": SEED,
        "count": len(entries),
        "tests": entries,
    }
    with open(os.path.join(staging, "index.json"), "w") as f:
        json.dump(index, f, indent=1, sort_keys=True)
        f.write("\n")
    if os.path.exists(out):
        shutil.rmtree(out)
    os.rename(staging, out)
    log(f"done: {len(entries)} cases in {out}")


if __name__ == "__main__":
    main()
