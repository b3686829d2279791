#!/usr/bin/env python3
"""Runs ONNX models in ONNX Runtime on .npy inputs and writes every output as .npy.

The ONNX Runtime side of the QDQ export cross-check (Tests/FlotillaCLITests/
QDQExportONNXRuntimeTests.swift):

    python3 scripts/ort-run.py --input input=x.npy --run a.onnx=OUT_A --run b.onnx=OUT_B

For each --run MODEL=DIR it writes DIR/<output name>.npy for every graph output and
DIR/steps.json: per output, the quantization step its values are compared with — the scale of
the DequantizeLinear that produces it, or else the scale of the last QuantizeLinear upstream of
it (a float output computed from quantized values, e.g. a Softmax after the logits), or null
for an output that is not float (compared exactly).

ONNX Runtime runs with its default (all) graph optimizations, so QDQ groups execute on its int8
kernels; --optimization disable runs every Q/DQ as written (fp32 simulation).
Exit status: 3 when numpy, onnx or onnxruntime is missing, 4 when ONNX Runtime cannot load or
run a model (a bug in the exporter), 2 on bad arguments.
"""
import argparse
import json
import os
import sys

try:
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper
except ImportError as error:  # the caller turns this into a skip with the install command
    print(f"ort-run.py: {error}; install with: python3 -m pip install -r scripts/requirements-test.txt", file=sys.stderr)
    sys.exit(3)


def scale_of(node, initializers):
    """The scale of a QuantizeLinear/DequantizeLinear as a float (activations are per tensor)."""
    if len(node.input) < 2 or node.input[1] not in initializers:
        return None
    s = initializers[node.input[1]]
    return float(s.reshape(-1)[0]) if s.size == 1 else None


def steps(model):
    """Per graph output: the step of its last quantization, or None (see the module docstring)."""
    g = model.graph
    initializers = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    producer = {o: n for n in g.node for o in n.output}
    float_outputs = {o.name for o in g.output if o.type.tensor_type.elem_type == onnx.TensorProto.FLOAT}
    result = {}
    for out in g.output:
        if out.name not in float_outputs:
            result[out.name] = None
            continue
        node = producer.get(out.name)
        if node is not None and node.op_type == "DequantizeLinear":
            result[out.name] = scale_of(node, initializers)
            continue
        # Breadth-first upstream over non-constant inputs to the nearest QuantizeLinear.
        frontier, seen, found = [node] if node is not None else [], set(), None
        while frontier and found is None:
            nxt = []
            for n in frontier:
                if n.op_type == "QuantizeLinear":
                    found = scale_of(n, initializers)
                    break
                for i in n.input:
                    p = producer.get(i)
                    if i and i not in initializers and p is not None and id(p) not in seen:
                        seen.add(id(p))
                        nxt.append(p)
            frontier = nxt
        result[out.name] = found
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--input", action="append", required=True, help="NAME=FILE.npy (repeatable)")
    p.add_argument("--run", action="append", required=True, help="MODEL.onnx=OUTDIR (repeatable)")
    p.add_argument("--optimization", choices=["all", "disable"], default="all")
    a = p.parse_args()
    feeds = {}
    for spec in a.input:
        name, sep, path = spec.partition("=")
        if not sep:
            p.error(f"--input {spec}: expected NAME=FILE.npy")
        feeds[name] = np.load(path)
    for spec in a.run:
        path, sep, out = spec.rpartition("=")
        if not sep:
            p.error(f"--run {spec}: expected MODEL.onnx=OUTDIR")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        if a.optimization == "disable":
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        try:
            sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        except Exception as error:  # ORT's own exception types vary by version
            print(f"ort-run.py: ONNX Runtime {ort.__version__} cannot load {path}: {error}", file=sys.stderr)
            sys.exit(4)
        missing = [i.name for i in sess.get_inputs() if i.name not in feeds]
        if missing:
            p.error(f"{path} needs inputs {missing}; give them with --input NAME=FILE.npy")
        try:
            names = [o.name for o in sess.get_outputs()]
            values = sess.run(names, {i.name: feeds[i.name] for i in sess.get_inputs()})
        except Exception as error:  # ORT's own exception types vary by version
            print(f"ort-run.py: ONNX Runtime {ort.__version__} cannot run {path}: {error}", file=sys.stderr)
            sys.exit(4)
        os.makedirs(out, exist_ok=True)
        for name, value in zip(names, values):
            np.save(os.path.join(out, f"{name}.npy"), np.ascontiguousarray(value))
        with open(os.path.join(out, "steps.json"), "w") as f:
            json.dump(steps(onnx.load(path)), f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
