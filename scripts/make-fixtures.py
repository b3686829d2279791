#!/usr/bin/env python3
"""Generate Flotilla's test-model fixtures and their ONNX Runtime reference outputs.

    python3 scripts/make-fixtures.py --out Tests/Fixtures

Everything is derived from fixed seeds and from data bundled with scikit-learn, so two runs
with the pinned packages (scripts/requirements-fixtures.txt) on the same machine write
byte-identical files. docs/fixtures.md describes each fixture.
"""

import os

# One BLAS thread: multi-threaded BLAS splits sums differently depending on the core count,
# which would make the trained weights (and so every file after them) machine-dependent.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import contextlib
import hashlib
import io
import importlib
import importlib.metadata
import json
import sys
import tempfile
import time
import warnings
import zlib
from pathlib import Path

SEED = 20240607
SCRIPT_VERSION = "1"
PRODUCER = "flotilla-make-fixtures"

# distribution name -> (module name, pinned version)
REQUIREMENTS = {
    "numpy": ("numpy", "2.4.6"),
    "scipy": ("scipy", "1.17.1"),
    "protobuf": ("google.protobuf", "7.36.2"),
    "onnx": ("onnx", "1.23.2"),
    "onnxruntime": ("onnxruntime", "1.31.1"),
    "scikit-learn": ("sklearn", "1.9.1"),
    "skl2onnx": ("skl2onnx", "1.20.0"),
    # onnxruntime.quantization's quant_pre_process runs symbolic shape inference with sympy.
    "sympy": ("sympy", "1.14.0"),
}
PIP_HINT = "python3 -m pip install -r scripts/requirements-fixtures.txt"


def check_requirements(strict):
    missing, mismatched = [], []
    for dist, (module, pinned) in REQUIREMENTS.items():
        try:
            installed = importlib.metadata.version(dist)
            importlib.import_module(module)
        except (importlib.metadata.PackageNotFoundError, ImportError):
            missing.append(f"{dist}=={pinned}")
            continue
        if installed != pinned:
            mismatched.append(f"{dist} {installed} (pinned {pinned})")
    if missing:
        sys.exit(
            "make-fixtures: missing Python packages: " + ", ".join(missing) + "\n"
            f"Install the pinned versions with:\n  {PIP_HINT}"
        )
    if mismatched:
        message = (
            "make-fixtures: installed versions differ from the pins: " + ", ".join(mismatched)
            + "\nThe fixtures will not be byte-identical to the committed ones. "
            f"Install the pins with:\n  {PIP_HINT}"
        )
        if strict:
            sys.exit(message)
        print("warning: " + message, file=sys.stderr)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="output folder, e.g. Tests/Fixtures")
    parser.add_argument(
        "--strict-versions", action="store_true",
        help="fail instead of warning when an installed package differs from its pin",
    )
    return parser.parse_args()


# Heavy imports happen after the requirement check so a missing package gives the pip
# command instead of a traceback.
ARGS = parse_args() if __name__ == "__main__" else None
check_requirements(strict=bool(ARGS and ARGS.strict_versions))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

T0 = time.monotonic()


def log(message):
    print(f"[{time.monotonic() - T0:6.1f}s] {message}", flush=True)


class FixtureError(Exception):
    """A generated fixture failed one of the script's own checks."""


def require(condition, message):
    if not condition:
        raise FixtureError(message)


def seeded_rng(*names):
    """A generator whose seed depends only on SEED and the given names (stable across runs)."""
    return np.random.default_rng([SEED] + [zlib.crc32(n.encode()) for n in names])


class Output:
    """Writes files under the output folder and remembers what it wrote for the manifest."""

    def __init__(self, root):
        self.root = root.resolve()
        self.written = []
        self.models = []
        self.quantized = []
        self.datasets = {}

    def path(self, relative):
        p = self.root / relative
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def npy(self, relative, array):
        require(np.all(np.isfinite(array)) if array.dtype.kind == "f" else True,
                f"{relative}: array holds NaN or infinity")
        with open(self.path(relative), "wb") as f:
            np.save(f, np.ascontiguousarray(array), allow_pickle=False)
        self.written.append(relative)
        return relative

    def model(self, relative, model):
        data = model.SerializeToString()
        self.path(relative).write_bytes(data)
        self.written.append(relative)
        return relative, data

    def raw(self, relative, data):
        self.path(relative).write_bytes(data)
        self.written.append(relative)
        return relative

    def add_model_entry(self, entry, into=None):
        path = self.root / entry["model"]
        data = path.read_bytes()
        entry["bytes"] = len(data)
        entry["sha256"] = hashlib.sha256(data).hexdigest()
        (self.models if into is None else into).append(entry)

    def json(self, relative, value):
        text = json.dumps(value, indent=2, sort_keys=True) + "\n"
        self.path(relative).write_text(text)
        self.written.append(relative)


# ---------------------------------------------------------------------------------------------
# ONNX helpers


def min_ir_version(opset_imports):
    """onnx's version table starts at onnx 1.0 (opset 3, IR 3); opsets 1-2 came with IR 3 too."""
    if all(imp.version < 3 for imp in opset_imports):
        return 3
    return helper.find_min_ir_version_for(opset_imports)


def finish_model(graph, opsets, doc):
    """Wraps a graph into a model with the lowest IR version its opsets allow, and checks it.

    The lowest IR version (not onnx's newest) keeps the files loadable by older readers and
    matches what exporters of that era wrote, which is what the importer meets in the field.
    """
    opset_imports = [helper.make_opsetid(domain, version) for domain, version in opsets.items()]
    model = helper.make_model(graph, opset_imports=opset_imports, producer_name=PRODUCER,
                              producer_version=SCRIPT_VERSION, doc_string=doc)
    model.ir_version = min_ir_version(opset_imports)
    if model.ir_version < 4:
        # Before IR 4 every initializer must also be a graph input (a default the caller may
        # override); exporters of that era wrote them so, and the importer must cope.
        listed = {i.name for i in model.graph.input}
        for init in model.graph.initializer:
            if init.name not in listed:
                model.graph.input.append(vi(init.name, init.data_type, list(init.dims)))
    onnx.checker.check_model(model, full_check=True)
    return model


def ort_session(data, optimized=False):
    options = ort.SessionOptions()
    # Disabled optimizations keep every node (BN, Clip, ...) as written, so the reference is
    # plain fp32 evaluation of the graph, not of ORT's fused rewrite of it.
    options.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimized
        else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


def ort_run(data, feeds, optimized=False):
    session = ort_session(data, optimized)
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, feeds)))


def reference_run(model, feeds):
    """onnx's pure-Python reference evaluator, used as a second opinion on ORT's outputs.

    Its BatchNormalization below opset 14 runs in training mode (batch statistics): BN-6/7
    because is_test defaults to 0, BN-9 because the schema's default momentum is filled in and
    any momentum means training to it. So graphs with BN at an older opset are evaluated as
    opset 15, where BN is inference-only unless training_mode=1, after dropping the attributes
    BN-15 no longer has. Only valid for graphs whose other ops kept their meaning up to 15,
    which holds for every graph this script cross-checks this way (Conv, Clip-11+, Add,
    GlobalAveragePool, Reshape, Gemm, BatchNormalization).
    """
    opset = next((imp.version for imp in model.opset_import if imp.domain in ("", "ai.onnx")), 0)
    how = "onnx.reference"
    if opset < 14 and any(n.op_type == "BatchNormalization" for n in model.graph.node):
        how = "onnx.reference (BatchNormalization evaluated as opset 15)"
        patched = onnx.ModelProto()
        patched.CopyFrom(model)
        for imp in patched.opset_import:
            if imp.domain in ("", "ai.onnx"):
                imp.version = 15
        patched.ir_version = max(patched.ir_version, 8)
        for node in patched.graph.node:
            if node.op_type == "BatchNormalization":
                kept = [a for a in node.attribute if a.name == "epsilon"]
                del node.attribute[:]
                node.attribute.extend(kept)
        model = patched
    if opset == 10 and any(n.op_type == "Resize" for n in model.graph.node):
        how = "onnx.reference (Resize-10 rewritten as Resize-11 asymmetric/floor)"
        model = resize10_as_resize11(model)
    names = [o.name for o in model.graph.output]
    return dict(zip(names, ReferenceEvaluator(model).run(None, feeds))), how


def resize10_as_resize11(model):
    """onnx.reference implements only the Resize-11+ signature (X, roi, scales, sizes). Resize-10
    (X, scales) means the asymmetric coordinate transform, and for nearest ORT and the ONNX
    backend tests round down, so it is rewritten as Resize-11 with those attributes; agreement
    with ORT then checks that reading of Resize-10 too."""
    patched = onnx.ModelProto()
    patched.CopyFrom(model)
    patched.opset_import[0].version = 11
    patched.graph.initializer.append(numpy_helper.from_array(np.zeros(0, dtype=np.float32), "resize10.roi"))
    for node in patched.graph.node:
        if node.op_type == "Resize":
            node.input[:] = [node.input[0], "resize10.roi", node.input[1]]
            node.attribute.append(helper.make_attribute("coordinate_transformation_mode", "asymmetric"))
            mode = next((a.s for a in node.attribute if a.name == "mode"), b"nearest")
            if mode == b"nearest":
                node.attribute.append(helper.make_attribute("nearest_mode", "floor"))
    return patched


def max_abs_diff(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    require(a.shape == b.shape, f"shape mismatch {a.shape} vs {b.shape}")
    return float(np.max(np.abs(a - b))) if a.size else 0.0


def suggest_tolerance(observed_abs, rtol):
    """10x the largest difference seen between two legitimate fp32 evaluations, rounded up
    to 1, 2 or 5 times a power of ten, with a floor of 1e-6: room for a different summation
    order, still tight enough to catch a wrong kernel."""
    target = max(1e-6, 10.0 * observed_abs)
    exponent = int(np.floor(np.log10(target)))
    for step in (1, 2, 5, 10):
        atol = float(f"{step}e{exponent}")
        if atol >= target * (1 - 1e-12):
            return {"atol": atol, "rtol": rtol}
    return {"atol": float(f"1e{exponent + 1}"), "rtol": rtol}


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


def set_batch_dim_param(model, param="N"):
    """skl2onnx leaves the batch dimension anonymous; name it like the other fixtures."""
    for value in list(model.graph.input) + list(model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if len(dims) and not dims[0].HasField("dim_value"):
            dims[0].dim_param = param


# ---------------------------------------------------------------------------------------------
# Digits data


def make_digits(out):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()  # bundled with scikit-learn: nothing is downloaded
    x = (digits.data / 16.0).astype(np.float32)  # pixels are 0..16
    y = digits.target.astype(np.int64)
    require(x.shape == (1797, 64), f"load_digits returned {x.shape}, expected (1797, 64)")
    index = np.arange(len(y))
    rest, test = train_test_split(index, test_size=400, stratify=y, random_state=SEED % 2**32)
    train, calibration = train_test_split(rest, test_size=200, stratify=y[rest],
                                          random_state=(SEED + 1) % 2**32)
    splits = {"train": train, "calibration": calibration, "test": test}
    data = {}
    for name, idx in splits.items():
        xs, ys = x[idx], y[idx]
        data[name] = (xs.reshape(-1, 1, 8, 8), ys)
        entry = {
            "x": out.npy(f"digits/{name}_x.npy", xs.reshape(-1, 1, 8, 8)),
            "y": out.npy(f"digits/{name}_y.npy", ys),
            "count": int(len(idx)),
            "class_counts": [int(c) for c in np.bincount(ys, minlength=10)],
        }
        # The MLP takes N x 64. Only the splits a test feeds to it get a flat copy; the flat
        # tensor has the same bytes as the N x 1 x 8 x 8 one, so train can be reshaped.
        if name != "train":
            entry["x_flat"] = out.npy(f"digits/{name}_x_flat.npy", xs)
        out.datasets[name] = entry
    log("digits: " + ", ".join(f"{k} {len(v)}" for k, v in splits.items())
        + " (stratified, pixels / 16 as float32)")
    return data


# ---------------------------------------------------------------------------------------------
# Digits CNN, trained in numpy (float64 for stable, reproducible sums; exported as float32)
#
#   input N x 1 x 8 x 8
#   Conv 3x3 pad 1 (16, with bias) -> BatchNormalization -> Relu -> MaxPool 2x2
#   Conv 3x3 pad 1 (32, with bias) -> Relu -> Flatten -> Gemm 512 -> 10 -> logits

BN_EPS = 1e-5


def im2col3(x):
    """(B, C, H, W) -> (B*H*W, C*9) patches of a 3x3 window, padding 1, stride 1."""
    b, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.empty((b, h, w, c, 3, 3), dtype=x.dtype)
    for i in range(3):
        for j in range(3):
            cols[:, :, :, :, i, j] = xp[:, :, i:i + h, j:j + w].transpose(0, 2, 3, 1)
    return cols.reshape(b * h * w, c * 9)


def col2im3(dcols, shape):
    b, c, h, w = shape
    d = dcols.reshape(b, h, w, c, 3, 3)
    dxp = np.zeros((b, c, h + 2, w + 2), dtype=dcols.dtype)
    for i in range(3):
        for j in range(3):
            dxp[:, :, i:i + h, j:j + w] += d[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dxp[:, :, 1:-1, 1:-1]


def conv_forward(x, weight, bias):
    b, _, h, w = x.shape
    o = weight.shape[0]
    cols = im2col3(x)
    y = cols @ weight.reshape(o, -1).T + bias
    return y.reshape(b, h, w, o).transpose(0, 3, 1, 2), cols


def conv_backward(dy, cols, weight, x_shape):
    o = weight.shape[0]
    dflat = dy.transpose(0, 2, 3, 1).reshape(-1, o)
    dweight = (dflat.T @ cols).reshape(weight.shape)
    dbias = dflat.sum(axis=0)
    dx = col2im3(dflat @ weight.reshape(o, -1), x_shape)
    return dx, dweight, dbias


def maxpool_forward(x):
    b, c, h, w = x.shape
    windows = x.reshape(b, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5)
    windows = windows.reshape(b, c, h // 2, w // 2, 4)
    arg = windows.argmax(axis=-1)
    return np.take_along_axis(windows, arg[..., None], axis=-1)[..., 0], arg


def maxpool_backward(dy, arg, x_shape):
    b, c, h, w = x_shape
    d = np.zeros((b, c, h // 2, w // 2, 4), dtype=dy.dtype)
    np.put_along_axis(d, arg[..., None], dy[..., None], axis=-1)
    return d.reshape(b, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(x_shape)


def cnn_init(rng, c1=16, c2=32, classes=10):
    def he(shape, fan_in):
        return rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)

    return {
        "conv1.weight": he((c1, 1, 3, 3), 9),
        # A non-zero bias in front of BN gives the importer's BN-folding pass a bias to fold
        # (training leaves it where it starts: batch-mean subtraction cancels its gradient).
        "conv1.bias": rng.normal(0.0, 0.1, c1),
        "bn1.weight": np.ones(c1),
        "bn1.bias": np.zeros(c1),
        "conv2.weight": he((c2, c1, 3, 3), c1 * 9),
        "conv2.bias": np.zeros(c2),
        "fc.weight": rng.standard_normal((classes, c2 * 16)) * np.sqrt(1.0 / (c2 * 16)),
        "fc.bias": np.zeros(classes),
    }


def cnn_forward_train(p, x):
    """Forward in training mode (BN uses batch statistics); returns logits and a cache."""
    a1, cols1 = conv_forward(x, p["conv1.weight"], p["conv1.bias"])
    mean = a1.mean(axis=(0, 2, 3), keepdims=True)
    var = a1.var(axis=(0, 2, 3), keepdims=True)
    inv_std = 1.0 / np.sqrt(var + BN_EPS)
    xhat = (a1 - mean) * inv_std
    bn = p["bn1.weight"][None, :, None, None] * xhat + p["bn1.bias"][None, :, None, None]
    r1 = np.maximum(bn, 0.0)
    m1, arg = maxpool_forward(r1)
    a2, cols2 = conv_forward(m1, p["conv2.weight"], p["conv2.bias"])
    r2 = np.maximum(a2, 0.0)
    flat = r2.reshape(len(x), -1)
    logits = flat @ p["fc.weight"].T + p["fc.bias"]
    cache = (x, cols1, xhat, inv_std, bn, r1, arg, m1, cols2, a2, r2, flat)
    return logits, cache


def softmax_cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(len(labels)), labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[np.arange(len(labels)), labels] -= 1.0
    return loss, dlogits / len(labels)


def cnn_backward(p, cache, dlogits):
    x, cols1, xhat, inv_std, bn, r1, arg, m1, cols2, a2, r2, flat = cache
    g = {"fc.weight": dlogits.T @ flat, "fc.bias": dlogits.sum(axis=0)}
    dr2 = (dlogits @ p["fc.weight"]).reshape(r2.shape) * (a2 > 0)
    dm1, g["conv2.weight"], g["conv2.bias"] = conv_backward(dr2, cols2, p["conv2.weight"], m1.shape)
    dbn = maxpool_backward(dm1, arg, r1.shape) * (bn > 0)
    g["bn1.weight"] = (dbn * xhat).sum(axis=(0, 2, 3))
    g["bn1.bias"] = dbn.sum(axis=(0, 2, 3))
    dxhat = dbn * p["bn1.weight"][None, :, None, None]
    n = xhat.shape[0] * xhat.shape[2] * xhat.shape[3]
    da1 = (inv_std / n) * (
        n * dxhat
        - dxhat.sum(axis=(0, 2, 3), keepdims=True)
        - xhat * (dxhat * xhat).sum(axis=(0, 2, 3), keepdims=True)
    )
    _, g["conv1.weight"], g["conv1.bias"] = conv_backward(da1, cols1, p["conv1.weight"], x.shape)
    return g


def cnn_forward_inference(p, stats, x):
    """Inference-mode forward with BN population statistics: what the ONNX graph computes."""
    a1, _ = conv_forward(x, p["conv1.weight"], p["conv1.bias"])
    mean, var = stats
    scale = p["bn1.weight"] / np.sqrt(var + BN_EPS)
    bn = (a1 - mean[None, :, None, None]) * scale[None, :, None, None] + p["bn1.bias"][None, :, None, None]
    m1, _ = maxpool_forward(np.maximum(bn, 0.0))
    a2, _ = conv_forward(m1, p["conv2.weight"], p["conv2.bias"])
    flat = np.maximum(a2, 0.0).reshape(len(x), -1)
    return flat @ p["fc.weight"].T + p["fc.bias"]


def cnn_gradient_check():
    """Central differences against the analytic backward pass on a tiny network, so a wrong
    gradient fails loudly instead of silently training a worse model."""
    rng = seeded_rng("cnn-gradient-check")
    p = cnn_init(rng, c1=3, c2=4)
    p["bn1.weight"] = rng.uniform(0.5, 1.5, 3)
    p["bn1.bias"] = rng.normal(0.0, 0.2, 3)
    x = rng.uniform(0.0, 1.0, (3, 1, 8, 8))
    labels = np.array([1, 4, 7])
    logits, cache = cnn_forward_train(p, x)
    grads = cnn_backward(p, cache, softmax_cross_entropy(logits, labels)[1])
    worst = 0.0
    h = 1e-6
    for name, value in p.items():
        flat = value.reshape(-1)
        for k in rng.choice(flat.size, size=min(6, flat.size), replace=False):
            saved = flat[k]
            flat[k] = saved + h
            up = softmax_cross_entropy(cnn_forward_train(p, x)[0], labels)[0]
            flat[k] = saved - h
            down = softmax_cross_entropy(cnn_forward_train(p, x)[0], labels)[0]
            flat[k] = saved
            numeric = (up - down) / (2 * h)
            analytic = grads[name].reshape(-1)[k]
            error = abs(numeric - analytic) / max(1e-8, abs(numeric) + abs(analytic))
            if abs(numeric) + abs(analytic) > 1e-7:
                worst = max(worst, error)
    require(worst < 1e-4, f"CNN gradient check failed: worst relative error {worst:.2e}")
    return worst


def train_cnn(train_x, train_y, epochs=30, batch=32, lr=2e-3):
    rng = seeded_rng("cnn-train")
    p = cnn_init(rng)
    x = train_x.astype(np.float64)
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in p.items()}
    beta1, beta2, step = 0.9, 0.999, 0
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        # Step decay: the last third of the epochs at a tenth of the rate settles the weights.
        rate = lr if epoch < 2 * epochs // 3 else lr * 0.1
        total = 0.0
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            logits, cache = cnn_forward_train(p, x[idx])
            loss, dlogits = softmax_cross_entropy(logits, train_y[idx])
            grads = cnn_backward(p, cache, dlogits)
            step += 1
            for k in p:
                m, v = moments[k]
                m *= beta1
                m += (1 - beta1) * grads[k]
                v *= beta2
                v += (1 - beta2) * grads[k] ** 2
                m_hat = m / (1 - beta1 ** step)
                v_hat = v / (1 - beta2 ** step)
                p[k] -= rate * m_hat / (np.sqrt(v_hat) + 1e-8)
            total += loss * len(idx)
        if epoch % 5 == 4 or epoch == epochs - 1:
            log(f"digits_cnn: epoch {epoch + 1}/{epochs} train loss {total / len(x):.4f}")
    # Population statistics over the whole train split (not a running average), so the
    # exported BN is exactly what the final weights see.
    a1, _ = conv_forward(x, p["conv1.weight"], p["conv1.bias"])
    stats = (a1.mean(axis=(0, 2, 3)), a1.var(axis=(0, 2, 3)))
    return p, stats


def cnn_to_onnx(p, stats):
    f32 = {k: v.astype(np.float32) for k, v in p.items()}
    f32["bn1.running_mean"] = stats[0].astype(np.float32)
    f32["bn1.running_var"] = stats[1].astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["input", "conv1.weight", "conv1.bias"], ["conv1"], name="conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("BatchNormalization",
                         ["conv1", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var"],
                         ["bn1"], name="bn1", epsilon=BN_EPS, momentum=0.9),
        helper.make_node("Relu", ["bn1"], ["relu1"], name="relu1"),
        helper.make_node("MaxPool", ["relu1"], ["pool1"], name="pool1", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Conv", ["pool1", "conv2.weight", "conv2.bias"], ["conv2"], name="conv2",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["conv2"], ["relu2"], name="relu2"),
        helper.make_node("Flatten", ["relu2"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="fc",
                         alpha=1.0, beta=1.0, transB=1),
    ]
    order = ["conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "bn1.running_mean",
             "bn1.running_var", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"]
    graph = helper.make_graph(
        nodes, "digits_cnn",
        [vi("input", TensorProto.FLOAT, ["N", 1, 8, 8])],
        [vi("logits", TensorProto.FLOAT, ["N", 10])],
        [numpy_helper.from_array(f32[k], k) for k in order],
    )
    return finish_model(graph, {"": 13}, "8x8 digits CNN trained in numpy by scripts/make-fixtures.py")


def make_digits_cnn(out, data):
    worst = cnn_gradient_check()
    log(f"digits_cnn: gradient check passed (worst relative error {worst:.1e})")
    train_x, train_y = data["train"]
    test_x, test_y = data["test"]
    p, stats = train_cnn(train_x, train_y)
    model = cnn_to_onnx(p, stats)
    _, blob = out.model("digits_cnn.onnx", model)

    logits = ort_run(blob, {"input": test_x})["logits"]
    accuracy = float((logits.argmax(axis=1) == test_y).mean())
    calib_x, calib_y = data["calibration"]
    calib_accuracy = float(
        (ort_run(blob, {"input": calib_x})["logits"].argmax(axis=1) == calib_y).mean())
    require(accuracy >= 0.95, f"digits_cnn test accuracy {accuracy:.4f} is below 0.95")

    # Two independent fp32 evaluations bound how far a correct runtime may drift from ORT:
    # the float64 numpy forward of the float32 weights, and ORT with its fusions on.
    f32 = {k: v.astype(np.float32).astype(np.float64) for k, v in p.items()}
    stats32 = tuple(s.astype(np.float32).astype(np.float64) for s in stats)
    numpy_logits = cnn_forward_inference(f32, stats32, test_x.astype(np.float64))
    diff_numpy = max_abs_diff(numpy_logits, logits)
    diff_fused = max_abs_diff(ort_run(blob, {"input": test_x}, optimized=True)["logits"], logits)
    require(diff_numpy < 1e-3, f"digits_cnn: numpy forward and ORT differ by {diff_numpy}")

    out.npy("digits_cnn.ort_output.npy", logits)
    log(f"digits_cnn: test accuracy {accuracy:.4f} ({int(round(accuracy * 400))}/400), "
        f"calibration {calib_accuracy:.4f}; |numpy - ORT| {diff_numpy:.1e}, "
        f"|ORT fused - ORT plain| {diff_fused:.1e}")
    out.add_model_entry({
        "name": "digits_cnn",
        "model": "digits_cnn.onnx",
        "opsets": {"ai.onnx": 13},
        "ir_version": model.ir_version,
        "inputs": {"input": out.datasets["test"]["x"]},
        "outputs": {"logits": "digits_cnn.ort_output.npy"},
        "reference": "onnxruntime",
        "tolerance": suggest_tolerance(max(diff_numpy, diff_fused), rtol=1e-4),
        "observed_max_abs_diff": {"ort_optimized": diff_fused, "second_opinion": diff_numpy},
        "second_opinion": "numpy float64 forward of the float32 weights",
        "accuracy": {"test": accuracy, "calibration": calib_accuracy, "labels": out.datasets["test"]["y"]},
        "ops": sorted({n.op_type for n in model.graph.node}),
    })


# ---------------------------------------------------------------------------------------------
# Digits MLP: scikit-learn MLPClassifier exported by skl2onnx


def make_digits_mlp(out, data):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    train_x, train_y = data["train"]
    test_x, test_y = data["test"]
    calib_x, calib_y = data["calibration"]
    flat = lambda a: a.reshape(len(a), 64)  # noqa: E731
    clf = MLPClassifier(hidden_layer_sizes=(64, 32), activation="relu", solver="adam",
                        alpha=1e-4, learning_rate_init=1e-3, max_iter=400,
                        random_state=SEED % 2**32)
    with warnings.catch_warnings():
        # Adam's stopping rule may call 400 epochs "not converged" while the accuracy check
        # below is what matters for a fixture.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(flat(train_x), train_y)
    sklearn_accuracy = float(clf.score(flat(test_x), test_y))

    model = convert_sklearn(
        clf, name="digits_mlp",
        initial_types=[("input", FloatTensorType([None, 64]))],
        options={id(clf): {"zipmap": False}},
        target_opset={"": 15, "ai.onnx.ml": 1},
    )
    set_batch_dim_param(model)
    model.producer_name = PRODUCER + " (skl2onnx)"
    onnx.checker.check_model(model, full_check=True)
    _, blob = out.model("digits_mlp.onnx", model)

    result = ort_run(blob, {"input": flat(test_x)})
    labels, probabilities = result["label"], result["probabilities"]
    require(labels.dtype == np.int64 and probabilities.dtype == np.float32,
            f"digits_mlp outputs are {labels.dtype}/{probabilities.dtype}, expected int64/float32")
    accuracy = float((labels == test_y).mean())
    calib_accuracy = float((ort_run(blob, {"input": flat(calib_x)})["label"] == calib_y).mean())
    sk_probabilities = clf.predict_proba(flat(test_x))
    diff_sklearn = max_abs_diff(sk_probabilities, probabilities)
    agreement = float((clf.predict(flat(test_x)) == labels).mean())
    fused = ort_run(blob, {"input": flat(test_x)}, optimized=True)["probabilities"]
    diff_fused = max_abs_diff(fused, probabilities)
    require(accuracy >= 0.93, f"digits_mlp test accuracy {accuracy:.4f} is below 0.93")
    require(agreement == 1.0, f"digits_mlp: ORT and scikit-learn labels agree on only {agreement:.4f}")

    out.npy("digits_mlp.ort_output.label.npy", labels)
    out.npy("digits_mlp.ort_output.probabilities.npy", probabilities)
    opsets = {imp.domain or "ai.onnx": imp.version for imp in model.opset_import}
    log(f"digits_mlp: test accuracy {accuracy:.4f} (scikit-learn {sklearn_accuracy:.4f}), "
        f"calibration {calib_accuracy:.4f}; |sklearn - ORT| probabilities {diff_sklearn:.1e}; "
        f"opsets {opsets}, {clf.n_iter_} epochs")
    out.add_model_entry({
        "name": "digits_mlp",
        "model": "digits_mlp.onnx",
        "opsets": opsets,
        "ir_version": model.ir_version,
        "inputs": {"input": out.datasets["test"]["x_flat"]},
        "outputs": {"label": "digits_mlp.ort_output.label.npy",
                    "probabilities": "digits_mlp.ort_output.probabilities.npy"},
        "reference": "onnxruntime",
        "tolerance": suggest_tolerance(max(diff_fused, 1e-7), rtol=1e-4),
        "exact_outputs": ["label"],
        "observed_max_abs_diff": {"ort_optimized": diff_fused, "second_opinion": diff_sklearn},
        "second_opinion": "scikit-learn predict_proba (float64)",
        "accuracy": {"test": accuracy, "calibration": calib_accuracy,
                     "sklearn_test": sklearn_accuracy, "labels": out.datasets["test"]["y"]},
        "ops": sorted({(n.domain + "." if n.domain else "") + n.op_type for n in model.graph.node}),
    })


# ---------------------------------------------------------------------------------------------
# MobileNetV2-shaped network (random weights)
#
# The torchvision / Keras MobileNetV2 layout at width multiplier 0.35 and 96 x 96 input (a
# published Keras configuration), with 50 classes instead of 1000: the 1280 x 1000 classifier
# alone would be 5 MB of fp32, and the block structure, not the head width, is what the
# importer, passes and runtime need to meet.

MOBILENET_WIDTH = 0.35
MOBILENET_RESOLUTION = 96
MOBILENET_CLASSES = 50
MOBILENET_LAST_CHANNEL = 1280
# expansion t, output channels c, repeats n, first stride s (Sandler et al. 2018, table 2)
MOBILENET_TABLE = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                   (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


def make_divisible(value, divisor=8):
    """torchvision's _make_divisible: round to a multiple of 8, never below 90% of value."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


class GraphBuilder:
    def __init__(self, rng):
        self.rng = rng
        self.nodes = []
        self.weights = {}  # name -> np.ndarray, insertion-ordered
        self.batch_norms = []  # (input tensor, mean name, var name) in graph order

    def weight(self, name, array, dtype=np.float32):
        self.weights[name] = np.asarray(array, dtype=dtype)
        return name

    def node(self, op, inputs, name, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def conv(self, x, prefix, c_in, c_out, kernel, stride, groups=1):
        fan_in = (c_in // groups) * kernel * kernel
        w = self.rng.standard_normal((c_out, c_in // groups, kernel, kernel)) * np.sqrt(2.0 / fan_in)
        pad = kernel // 2
        # No conv bias, as PyTorch exports a conv followed by BN: the fold pass must create it.
        return self.node("Conv", [x, self.weight(f"{prefix}.weight", w)], prefix,
                         kernel_shape=[kernel, kernel], strides=[stride, stride],
                         pads=[pad, pad, pad, pad], group=groups, dilations=[1, 1])

    def batch_norm(self, x, prefix, channels):
        names = [f"{prefix}.{k}" for k in ("weight", "bias", "running_mean", "running_var")]
        self.weight(names[0], self.rng.uniform(0.5, 1.5, channels))
        self.weight(names[1], self.rng.normal(0.0, 0.1, channels))
        # Placeholders until calibrate_batch_norms measures the real statistics.
        self.weight(names[2], np.zeros(channels))
        self.weight(names[3], np.ones(channels))
        self.batch_norms.append((x, names[2], names[3]))
        # No momentum attribute (the CNN fixture has one, as PyTorch writes it): onnx.reference
        # treats a BN-9..13 with momentum as training mode, and it cross-checks this model.
        return self.node("BatchNormalization", [x] + names, prefix, epsilon=1e-5)

    def relu6(self, x, prefix):
        # Clip-11+ takes min/max as inputs; one shared pair of scalars, as exporters emit.
        if "relu6.min" not in self.weights:
            self.weight("relu6.min", np.array(0.0))
            self.weight("relu6.max", np.array(6.0))
        return self.node("Clip", [x, "relu6.min", "relu6.max"], prefix)

    def conv_bn(self, x, prefix, c_in, c_out, kernel, stride, groups=1, relu6=True):
        """Conv, BN and ReLU6 named prefix.0, prefix.1, prefix.2 (torchvision's Sequential)."""
        y = self.conv(x, f"{prefix}.0", c_in, c_out, kernel, stride, groups)
        y = self.batch_norm(y, f"{prefix}.1", c_out)
        return self.relu6(y, f"{prefix}.2") if relu6 else y

    def model(self, outputs, opset=13, doc="", batch=1):
        graph = helper.make_graph(
            self.nodes, "mobilenetv2_shaped",
            [vi("input", TensorProto.FLOAT, [batch, 3, MOBILENET_RESOLUTION, MOBILENET_RESOLUTION])],
            outputs,
            [numpy_helper.from_array(v, k) for k, v in self.weights.items()],
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                                  producer_name=PRODUCER, producer_version=SCRIPT_VERSION,
                                  doc_string=doc)
        model.ir_version = min_ir_version(list(model.opset_import))
        return model


def build_mobilenet(rng):
    b = GraphBuilder(rng)
    c_in = make_divisible(32 * MOBILENET_WIDTH)
    x = b.conv_bn("input", "features.0", 3, c_in, 3, 2)
    layer = 1
    blocks = []
    for t, c, n, s in MOBILENET_TABLE:
        c_out = make_divisible(c * MOBILENET_WIDTH)
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = c_in * t
            prefix = f"features.{layer}.conv"
            y = x
            j = 0
            if t != 1:
                y = b.conv_bn(y, f"{prefix}.{j}", c_in, hidden, 1, 1)
                j += 1
            y = b.conv_bn(y, f"{prefix}.{j}", hidden, hidden, 3, stride, groups=hidden)
            y = b.conv_bn(y, f"{prefix}.{j + 1}", hidden, c_out, 1, 1, relu6=False)
            residual = stride == 1 and c_in == c_out
            if residual:
                y = b.node("Add", [x, y], f"features.{layer}.add")
            blocks.append({"layer": layer, "expand": t, "in": c_in, "out": c_out,
                           "stride": stride, "residual": residual})
            x, c_in = y, c_out
            layer += 1
    x = b.conv_bn(x, f"features.{layer}", c_in, MOBILENET_LAST_CHANNEL, 1, 1)
    x = b.node("GlobalAveragePool", [x], "pool")
    # Reshape with 0 (copy the batch dim) and -1 (infer), as torch.flatten exports under
    # some exporters; the CNN fixture covers Flatten.
    x = b.node("Reshape", [x, b.weight("flatten.shape", [0, -1], dtype=np.int64)], "flatten")
    w = rng.standard_normal((MOBILENET_CLASSES, MOBILENET_LAST_CHANNEL)) * np.sqrt(1.0 / MOBILENET_LAST_CHANNEL)
    b.node("Gemm", [x, b.weight("classifier.weight", w),
                    b.weight("classifier.bias", rng.normal(0.0, 0.01, MOBILENET_CLASSES))],
           "logits", transB=1)
    return b, blocks


def calibrate_batch_norms(b, images):
    """Data-dependent init: set each BN's statistics, in graph order, to the mean and variance
    its input really has on a batch of images, so activations stay O(1) through the network
    (random running stats would saturate every ReLU6 or zero it, and the reference output
    would test nothing)."""
    for tensor, mean_name, var_name in b.batch_norms:
        model = b.model([helper.make_tensor_value_info(tensor, TensorProto.FLOAT, None)], batch=len(images))
        activation = ort_run(model.SerializeToString(), {"input": images})[tensor].astype(np.float64)
        b.weights[mean_name] = activation.mean(axis=(0, 2, 3)).astype(np.float32)
        b.weights[var_name] = activation.var(axis=(0, 2, 3)).astype(np.float32)


def make_mobilenet(out):
    rng = seeded_rng("mobilenetv2")
    b, blocks = build_mobilenet(rng)
    shape = (1, 3, MOBILENET_RESOLUTION, MOBILENET_RESOLUTION)
    calibration = seeded_rng("mobilenetv2-calibration").standard_normal((8,) + shape[1:]).astype(np.float32)
    calibrate_batch_norms(b, calibration)
    model = b.model([vi("logits", TensorProto.FLOAT, [1, MOBILENET_CLASSES])],
                    doc=f"MobileNetV2 layout, width {MOBILENET_WIDTH}, random He-init weights, "
                        "made by scripts/make-fixtures.py")
    onnx.checker.check_model(model, full_check=True)
    _, blob = out.model("mobilenetv2_shaped.onnx", model)

    image = seeded_rng("mobilenetv2-input").standard_normal(shape).astype(np.float32)
    logits = ort_run(blob, {"input": image})["logits"]
    fused = ort_run(blob, {"input": image}, optimized=True)["logits"]
    reference_outputs, second_opinion = reference_run(model, {"input": image})
    reference = reference_outputs["logits"]
    diff_fused = max_abs_diff(fused, logits)
    diff_reference = max_abs_diff(reference, logits)
    spread = float(logits.std())
    require(0.1 < spread < 100.0, f"mobilenetv2_shaped logits have std {spread}: activations "
            "collapsed or exploded, check calibrate_batch_norms")
    require(diff_reference < 1e-2 * max(1.0, float(np.abs(logits).max())),
            f"mobilenetv2_shaped: onnx.reference and ORT differ by {diff_reference}")
    out.npy("mobilenetv2_shaped.input.npy", image)
    out.npy("mobilenetv2_shaped.ort_output.npy", logits)

    ops = {}
    for n in model.graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    params = int(sum(v.size for v in b.weights.values()))
    log(f"mobilenetv2_shaped: {len(model.graph.node)} nodes {ops}, {params} parameters, "
        f"{len(blob) / 1e6:.2f} MB; logits std {spread:.2f}; |ORT fused - ORT plain| "
        f"{diff_fused:.1e}, |onnx.reference - ORT| {diff_reference:.1e}")
    out.add_model_entry({
        "name": "mobilenetv2_shaped",
        "model": "mobilenetv2_shaped.onnx",
        "opsets": {"ai.onnx": 13},
        "ir_version": model.ir_version,
        "inputs": {"input": "mobilenetv2_shaped.input.npy"},
        "outputs": {"logits": "mobilenetv2_shaped.ort_output.npy"},
        "reference": "onnxruntime",
        "tolerance": suggest_tolerance(max(diff_fused, diff_reference), rtol=1e-3),
        "observed_max_abs_diff": {"ort_optimized": diff_fused, "second_opinion": diff_reference},
        "second_opinion": second_opinion,
        "accuracy": None,
        "ops": sorted(ops),
        "op_counts": dict(sorted(ops.items())),
        "parameters": params,
        "architecture": {"width_multiplier": MOBILENET_WIDTH, "resolution": MOBILENET_RESOLUTION,
                         "classes": MOBILENET_CLASSES, "last_channel": MOBILENET_LAST_CHANNEL,
                         "blocks": blocks},
    })


# ---------------------------------------------------------------------------------------------
# Small graphs across opsets: the same computation written the way each opset spells it
# (attributes that became inputs, axis semantics that changed), for the importer's version
# handling. Each builder returns (nodes, graph inputs, graph outputs, initializers, feeds).


def f32_init(name, values):
    return numpy_helper.from_array(np.asarray(values, dtype=np.float32), name)


def i64_init(name, values):
    return numpy_helper.from_array(np.asarray(values, dtype=np.int64), name)


def uniform_input(family, shape, low=-1.0, high=1.0):
    return seeded_rng(family, "input").uniform(low, high, shape).astype(np.float32)


def case_conv_relu_clip(opset):
    rng = seeded_rng("conv_relu_clip", "weights")
    w = (rng.standard_normal((4, 3, 3, 3)) * np.sqrt(2.0 / 27)).astype(np.float32)
    bias = rng.normal(0.0, 0.1, 4).astype(np.float32)
    inits = [f32_init("w", w), f32_init("b", bias)]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["conv"], name="conv", kernel_shape=[3, 3],
                              pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["conv"], ["relu"], name="relu")]
    # Bounds that are not ReLU6's, so a reader that ignores them or swaps them gets caught.
    if opset < 11:
        nodes.append(helper.make_node("Clip", ["relu"], ["y"], name="clip", min=0.05, max=0.8))
    else:
        inits += [f32_init("clip_min", 0.05), f32_init("clip_max", 0.8)]
        nodes.append(helper.make_node("Clip", ["relu", "clip_min", "clip_max"], ["y"], name="clip"))
    return (nodes, [vi("x", TensorProto.FLOAT, [1, 3, 8, 8])], [vi("y", TensorProto.FLOAT, [1, 4, 8, 8])],
            inits, {"x": uniform_input("conv_relu_clip", (1, 3, 8, 8))})


def case_squeeze_unsqueeze(opset):
    inits = []
    if opset < 13:
        nodes = [helper.make_node("Squeeze", ["x"], ["s"], name="squeeze", axes=[1]),
                 helper.make_node("Unsqueeze", ["s"], ["y"], name="unsqueeze", axes=[0, 3])]
    else:
        inits = [i64_init("squeeze_axes", [1]), i64_init("unsqueeze_axes", [0, 3])]
        nodes = [helper.make_node("Squeeze", ["x", "squeeze_axes"], ["s"], name="squeeze"),
                 helper.make_node("Unsqueeze", ["s", "unsqueeze_axes"], ["y"], name="unsqueeze")]
    return (nodes, [vi("x", TensorProto.FLOAT, [2, 1, 5])], [vi("y", TensorProto.FLOAT, [1, 2, 5, 1])],
            inits, {"x": uniform_input("squeeze_unsqueeze", (2, 1, 5))})


def resize_case(family, mode, opset, transform, sizes=None):
    x_shape = (1, 2, 4, 5)
    inits = []
    if sizes is not None:
        inits.append(i64_init("sizes", sizes))
        inputs = ["x", "", "", "sizes"]
        y_shape = list(sizes)
    else:
        inits.append(f32_init("scales", [1.0, 1.0, 2.0, 2.0]))
        y_shape = [1, 2, 8, 10]
        if opset == 10:
            inputs = ["x", "scales"]
        elif opset == 11:
            inits.append(f32_init("roi", np.zeros(0)))  # roi is a required input in Resize-11
            inputs = ["x", "roi", "scales"]
        else:
            inputs = ["x", "", "scales"]
    attrs = {"mode": mode}
    if opset >= 11:
        attrs["coordinate_transformation_mode"] = transform
        if mode == "nearest":
            attrs["nearest_mode"] = "floor"
    nodes = [helper.make_node("Resize", inputs, ["y"], name="resize", **attrs)]
    return (nodes, [vi("x", TensorProto.FLOAT, list(x_shape))], [vi("y", TensorProto.FLOAT, y_shape)],
            inits, {"x": uniform_input(family, x_shape)})


def case_resize_nearest(opset):
    # asymmetric + floor is what PyTorch's nearest upsampling exports and what Resize-10 means.
    return resize_case("resize_nearest", "nearest", opset, "asymmetric")


def case_resize_linear(opset):
    # Resize-10 has no coordinate_transformation_mode: its linear mode is "asymmetric", so the
    # opset-10 output differs from the half_pixel ones on purpose.
    return resize_case("resize_linear", "linear", opset, "half_pixel")


def case_resize_linear_sizes(opset):
    return resize_case("resize_linear_sizes", "linear", opset, "align_corners", sizes=[1, 2, 7, 9])


PAD_FULL = [0, 0, 1, 2, 0, 0, 2, 1]  # begins for N, C, H, W then ends


def pad_case(family, mode, opset):
    x_shape = [1, 2, 4, 5]
    y_shape = [1, 2, 4 + 1 + 2, 5 + 2 + 1]
    inits = []
    attrs = {"mode": mode}
    if opset < 11:
        attrs["pads"] = PAD_FULL
        if mode == "constant":
            attrs["value"] = 0.5
        inputs = ["x"]
    else:
        if opset >= 18 and mode == "constant":
            # Pad-18's axes input: pads only for H and W, named by negative axes.
            inits += [i64_init("pads", [1, 2, 2, 1]), i64_init("axes", [-2, -1])]
        else:
            inits.append(i64_init("pads", PAD_FULL))
        inputs = ["x", "pads"]
        if mode == "constant":
            inits.append(f32_init("value", 0.5))
            inputs.append("value")
        if opset >= 18 and mode == "constant":
            inputs.append("axes")
    nodes = [helper.make_node("Pad", inputs, ["y"], name="pad", **attrs)]
    return (nodes, [vi("x", TensorProto.FLOAT, x_shape)], [vi("y", TensorProto.FLOAT, y_shape)],
            inits, {"x": uniform_input(family, x_shape)})


def case_pad_constant(opset):
    return pad_case("pad_constant", "constant", opset)


def case_pad_reflect(opset):
    return pad_case("pad_reflect", "reflect", opset)


def case_split(opset):
    outputs = [vi("a", TensorProto.FLOAT, [2, 2, 3]), vi("b", TensorProto.FLOAT, [2, 3, 3])]
    if opset < 13:
        nodes = [helper.make_node("Split", ["x"], ["a", "b"], name="split", axis=1, split=[2, 3])]
        inits = []
    else:
        nodes = [helper.make_node("Split", ["x", "split"], ["a", "b"], name="split", axis=1)]
        inits = [i64_init("split", [2, 3])]
    return (nodes, [vi("x", TensorProto.FLOAT, [2, 5, 3])], outputs, inits,
            {"x": uniform_input("split", (2, 5, 3))})


def case_split_num_outputs(opset):
    # Split-18's num_outputs on a dimension it does not divide: chunks of ceil(5/2) = 3, then 2.
    nodes = [helper.make_node("Split", ["x"], ["a", "b"], name="split", axis=1, num_outputs=2)]
    outputs = [vi("a", TensorProto.FLOAT, [2, 3, 3]), vi("b", TensorProto.FLOAT, [2, 2, 3])]
    return (nodes, [vi("x", TensorProto.FLOAT, [2, 5, 3])], outputs, [],
            {"x": uniform_input("split", (2, 5, 3))})


def softmax_oracle(opset):
    """The spec's Softmax in float64. onnx.reference cannot be the second opinion here: it
    applies opset-13 semantics to Softmax-11 as well."""
    def run(feeds):
        x = feeds["x"].astype(np.float64)
        rows = x.reshape(x.shape[0], -1) if opset < 13 else x
        axis = -1 if opset < 13 else 1
        e = np.exp(rows - rows.max(axis=axis, keepdims=True))
        return {"y": (e / e.sum(axis=axis, keepdims=True)).reshape(x.shape)}
    return run


def case_softmax(opset):
    # axis=1 on a rank-3 tensor: before opset 13 the input is coerced to 2-D [2, 12] and the
    # softmax runs over 12 values; from 13 it runs over the 3 values of axis 1 only.
    nodes = [helper.make_node("Softmax", ["x"], ["y"], name="softmax", axis=1)]
    return (nodes, [vi("x", TensorProto.FLOAT, [2, 3, 4])], [vi("y", TensorProto.FLOAT, [2, 3, 4])],
            [], {"x": uniform_input("softmax", (2, 3, 4), -3.0, 3.0)}, softmax_oracle(opset))


def case_reduce_mean(opset):
    if opset < 18:
        nodes = [helper.make_node("ReduceMean", ["x"], ["y"], name="mean", axes=[1, -1], keepdims=0)]
        inits = []
    else:
        nodes = [helper.make_node("ReduceMean", ["x", "axes"], ["y"], name="mean", keepdims=0)]
        inits = [i64_init("axes", [1, -1])]
    return (nodes, [vi("x", TensorProto.FLOAT, [2, 3, 4])], [vi("y", TensorProto.FLOAT, [2])],
            inits, {"x": uniform_input("reduce_mean", (2, 3, 4))})


def case_batchnorm(opset):
    rng = seeded_rng("batchnorm", "weights")
    inits = [f32_init("scale", rng.uniform(0.5, 1.5, 3)), f32_init("bias", rng.normal(0, 0.2, 3)),
             f32_init("mean", rng.normal(0, 0.3, 3)), f32_init("var", rng.uniform(0.2, 2.0, 3))]
    # BatchNormalization-7 still carries `spatial` (removed in 9); write it as old exporters did.
    attrs = {"epsilon": 1e-3}
    if opset < 9:
        attrs["spatial"] = 1
    nodes = [helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["y"],
                              name="bn", **attrs)]
    return (nodes, [vi("x", TensorProto.FLOAT, [2, 3, 4, 4])], [vi("y", TensorProto.FLOAT, [2, 3, 4, 4])],
            inits, {"x": uniform_input("batchnorm", (2, 3, 4, 4))})


def newest_ort_opset():
    """The newest ai.onnx opset this onnxruntime accepts, found by loading a one-Relu model."""
    for opset in range(onnx.defs.onnx_opset_version(), 6, -1):
        graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "probe",
                                  [vi("x", TensorProto.FLOAT, [1])], [vi("y", TensorProto.FLOAT, [1])])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = min_ir_version(list(model.opset_import))
        try:
            ort_session(model.SerializeToString())
            return opset
        except Exception:  # ORT reports an unsupported opset/IR as a generic failure
            continue
    raise FixtureError("onnxruntime accepts no opset >= 7; is it installed correctly?")


def opset_cases(ort_max):
    onnx_max = onnx.defs.onnx_opset_version()
    newest = sorted({ort_max, onnx_max})
    # (family, builder, opsets, exact data movement?, opsets whose outputs must be equal)
    return [
        ("conv_relu_clip", case_conv_relu_clip, [7, 11, 13] + newest, False, [[7, 11, 13] + newest]),
        ("squeeze_unsqueeze", case_squeeze_unsqueeze, [7, 11, 13], True, [[7, 11, 13]]),
        ("resize_nearest", case_resize_nearest, [10, 11, 13], True, [[10, 11, 13]]),
        ("resize_linear", case_resize_linear, [10, 11, 13], False, [[11, 13]]),
        ("resize_linear_sizes", case_resize_linear_sizes, [13], False, []),
        ("pad_constant", case_pad_constant, [2, 11, 18], True, [[2, 11, 18]]),
        ("pad_reflect", case_pad_reflect, [2, 11], True, [[2, 11]]),
        ("split", case_split, [11, 13, 18], True, [[11, 13, 18]]),
        ("split_num_outputs", case_split_num_outputs, [18], True, []),
        ("softmax", case_softmax, [11, 13], False, []),
        ("reduce_mean", case_reduce_mean, [13, 18], False, [[13, 18]]),
        ("batchnorm", case_batchnorm, [7, 9, 15], False, [[7, 9, 15]]),
    ]


def make_opset_models(out):
    ort_max = newest_ort_opset()
    onnx_max = onnx.defs.onnx_opset_version()
    log(f"opsets: onnx {onnx.__version__} defines opsets up to {onnx_max}, "
        f"onnxruntime {ort.__version__} runs up to {ort_max}")
    count = 0
    for family, build, opsets, exact, equal_groups in opset_cases(ort_max):
        results = {}
        for opset in opsets:
            stem = f"{family}.opset{opset}"
            nodes, inputs, outputs, inits, feeds, *oracle = build(opset)
            model = finish_model(helper.make_graph(nodes, family, inputs, outputs, inits),
                                 {"": opset}, f"{family} written for opset {opset} by scripts/make-fixtures.py")
            _, blob = out.model(f"opsets/{stem}.onnx", model)
            names = [o.name for o in outputs]
            if oracle:
                reference, second_opinion = oracle[0](feeds), "numpy float64 (spec semantics)"
            else:
                reference, second_opinion = reference_run(model, feeds)
            if opset <= ort_max:
                source, suffix = "onnxruntime", "ort_output"
                result = ort_run(blob, feeds)
                fused = ort_run(blob, feeds, optimized=True)
                diff_fused = max(max_abs_diff(fused[n], result[n]) for n in names)
                diff_reference = max(max_abs_diff(reference[n], result[n]) for n in names)
            else:
                # Newer than this onnxruntime: onnx's own reference evaluator is the only
                # implementation of the opset at hand, and the file name says so.
                source, suffix = "onnx.reference", "reference_output"
                result, diff_fused, diff_reference = reference, 0.0, 0.0
                second_opinion = None
            require(diff_reference <= 1e-5,
                    f"{stem}: {second_opinion} and onnxruntime differ by {diff_reference}")
            results[opset] = result
            entry_inputs = {n: out.npy(f"opsets/{stem}.input.npy" if len(feeds) == 1
                                       else f"opsets/{stem}.input.{n}.npy", a) for n, a in feeds.items()}
            entry_outputs = {n: out.npy(f"opsets/{stem}.{suffix}.npy" if len(names) == 1
                                        else f"opsets/{stem}.{suffix}.{n}.npy", result[n]) for n in names}
            out.add_model_entry({
                "name": stem,
                "model": f"opsets/{stem}.onnx",
                "family": family,
                "opsets": {"ai.onnx": opset},
                "ir_version": model.ir_version,
                "inputs": entry_inputs,
                "outputs": entry_outputs,
                "reference": source,
                "tolerance": {"atol": 0.0, "rtol": 0.0} if exact
                else suggest_tolerance(max(diff_fused, diff_reference), rtol=1e-5),
                "observed_max_abs_diff": (
                    {"ort_optimized": diff_fused, "second_opinion": diff_reference}
                    if second_opinion else None),
                "second_opinion": second_opinion,
                "accuracy": None,
                "ops": sorted({n.op_type for n in model.graph.node}),
            })
            count += 1
        for group in equal_groups:
            first = results[group[0]]
            for opset in group[1:]:
                for name in first:
                    diff = max_abs_diff(first[name], results[opset][name])
                    require(diff <= 1e-6, f"{family}: opset {group[0]} and opset {opset} should "
                            f"compute the same {name} but differ by {diff}")
        if family == "softmax":
            require(max_abs_diff(results[11]["y"], results[13]["y"]) > 1e-3,
                    "softmax: opsets 11 and 13 should differ (2-D coercion vs one axis)")
        log(f"opsets: {family} at opsets {opsets}")
    return count, ort_max, onnx_max


# ---------------------------------------------------------------------------------------------
# Quantized models: ONNX Runtime's own quantizer applied to the fp32 fixtures above, and ORT's
# int8 outputs for them. Flotilla's int8 runtime must run models quantized elsewhere and agree
# with ORT within one quantization step on >= 99.9 % of output values; the int8 benchmark
# compares Flotilla int8 with ORT int8 on the same files.

QUANT_DIR = "quantized"
QUANT_MIN_FRACTION = 0.999  # share of output values that must be within one step
MOBILENET_QUANT_CALIBRATION = 32  # seeded N(0, 1) images, the kind of input the fp32 fixture has

# name -> fp32 source and the exact arguments given to ORT's quantizer. "dynamic" means
# quantize_dynamic (weights int8 offline, activations quantized at run time), everything else
# quantize_static with a CalibrationDataReader. Entropy calibration is absent on purpose:
# quantize_static cannot pass the entropy calibrator's bin counts, and with its defaults
# (128 histogram bins, 128 quantized bins) the only candidate threshold is the full range, so
# the model comes out byte-identical to MinMax's.
QUANTIZED_MODELS = [
    ("digits_cnn.qdq.u8s8.perchannel", "digits_cnn",
     {"format": "QDQ", "activation_type": "QUInt8", "weight_type": "QInt8", "per_channel": True,
      "calibrate_method": "MinMax", "extra_options": {}}),
    ("digits_cnn.qdq.u8s8.perchannel.percentile", "digits_cnn",
     {"format": "QDQ", "activation_type": "QUInt8", "weight_type": "QInt8", "per_channel": True,
      "calibrate_method": "Percentile", "extra_options": {}}),
    # ORT's QOperator format supports per-channel weights in QLinearConv (and QGemm), so the
    # QOperator models are per-channel as well.
    ("digits_cnn.qoperator.u8s8", "digits_cnn",
     {"format": "QOperator", "activation_type": "QUInt8", "weight_type": "QInt8", "per_channel": True,
      "calibrate_method": "MinMax", "extra_options": {}}),
    # Symmetric int8 activations (zero point 0, the ARM-friendly scheme) with per-tensor
    # weights, so the set also covers the per-tensor weight path.
    ("digits_cnn.qdq.s8s8", "digits_cnn",
     {"format": "QDQ", "activation_type": "QInt8", "weight_type": "QInt8", "per_channel": False,
      "calibrate_method": "MinMax", "extra_options": {"ActivationSymmetric": True}}),
    ("mobilenetv2_shaped.qdq.u8s8.perchannel", "mobilenetv2_shaped",
     {"format": "QDQ", "activation_type": "QUInt8", "weight_type": "QInt8", "per_channel": True,
      "calibrate_method": "MinMax", "extra_options": {}}),
    ("mobilenetv2_shaped.qoperator.u8s8", "mobilenetv2_shaped",
     {"format": "QOperator", "activation_type": "QUInt8", "weight_type": "QInt8", "per_channel": True,
      "calibrate_method": "MinMax", "extra_options": {}}),
    ("digits_mlp.dynamic", "digits_mlp",
     {"format": "dynamic", "weight_type": "QInt8", "per_channel": False, "extra_options": {}}),
]


def op_label(node):
    return (node.domain + "." if node.domain else "") + node.op_type


def quantize_with_ort(fp32_path, settings, input_name, calibration, folder):
    """quant_pre_process (ORT's recommended first step: symbolic and ONNX shape inference and
    ORT's basic graph optimizations, which fold BatchNormalization into Conv and MatMul+Add into
    Gemm), then quantize_static or quantize_dynamic. Returns the quantized model's bytes."""
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat,
                                          QuantType, quantize_dynamic, quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class RowReader(CalibrationDataReader):
        """One sample per calibration run, in array order (the MobileNet's batch is fixed at 1)."""

        def __init__(self, rows):
            self.rows, self.next = rows, 0

        def get_next(self):
            if self.next >= len(self.rows):
                return None
            self.next += 1
            return {input_name: self.rows[self.next - 1:self.next]}

    pre = folder / "preprocessed.onnx"
    quantized = folder / "quantized.onnx"
    # The entropy/percentile calibrators print progress to stdout; the log stays ours.
    with contextlib.redirect_stdout(io.StringIO()):
        quant_pre_process(str(fp32_path), str(pre))
        if settings["format"] == "dynamic":
            quantize_dynamic(str(pre), str(quantized), per_channel=settings["per_channel"],
                             weight_type=QuantType[settings["weight_type"]],
                             extra_options=dict(settings["extra_options"]))
        else:
            quantize_static(str(pre), str(quantized), RowReader(calibration),
                            quant_format=QuantFormat[settings["format"]],
                            per_channel=settings["per_channel"], reduce_range=False,
                            activation_type=QuantType[settings["activation_type"]],
                            weight_type=QuantType[settings["weight_type"]],
                            calibrate_method=CalibrationMethod[settings["calibrate_method"]],
                            extra_options=dict(settings["extra_options"]))
    return quantized.read_bytes()


def output_quantization(model):
    """What each graph output is: a float made by a final DequantizeLinear (whose scale is the
    output's quantization step), an integer, or a float with no fixed step."""
    producers = {o: n for n in model.graph.node for o in n.output}
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    info = {}
    for value in model.graph.output:
        node = producers.get(value.name)
        elem = TensorProto.DataType.Name(value.type.tensor_type.elem_type)
        if node is not None and node.op_type == "DequantizeLinear":
            scale = inits.get(node.input[1])
            zero_name = node.input[2] if len(node.input) > 2 else ""
            zero = inits.get(zero_name) if zero_name else np.zeros((), dtype=np.uint8)
            require(scale is not None and zero is not None and scale.size == 1 and zero.size == 1,
                    f"output {value.name}: its DequantizeLinear {node.name} should have scalar "
                    "initializer scale and zero point")
            info[value.name] = {
                "kind": "float after a final DequantizeLinear",
                "dequantize_node": node.name,
                "quantized_tensor": node.input[0],
                "quantized_type": "uint8" if zero.dtype == np.uint8 else str(zero.dtype),
                "scale": float(scale),
                "zero_point": int(zero),
            }
        elif elem in ("INT8", "UINT8"):
            require(node is not None and node.op_type == "QuantizeLinear",
                    f"output {value.name} is {elem} but not made by QuantizeLinear")
            info[value.name] = {"kind": "quantized " + elem.lower(), "scale": float(inits[node.input[1]]),
                                "zero_point": int(inits[node.input[2]])}
        elif elem == "FLOAT":
            info[value.name] = {"kind": "float, not quantized (made by "
                                f"{node.op_type if node is not None else 'a graph input'}): no fixed step"}
        else:
            info[value.name] = {"kind": elem.lower() + ", exact"}
    return info


def steps_apart(a, b, step):
    """How many quantization steps two dequantized outputs differ by. Values after a
    DequantizeLinear are (q - zero point) * scale, so differences are whole steps; anything else
    means the output was not what the graph says it is."""
    d = np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) / step
    whole = np.rint(d)
    require(float(np.max(np.abs(d - whole))) < 1e-3,
            f"outputs differ by {float(np.max(d))} steps of {step}, not by whole steps")
    return {"max_steps": int(whole.max()), "fraction_differing": float((whole > 0).mean()),
            "fraction_beyond_one_step": float((whole > 1).mean())}


def value_difference(a, b):
    """Labels (integers) differ in how many places, floats by how much."""
    if np.asarray(b).dtype.kind in "iu":
        require(np.shape(a) == np.shape(b), f"shape mismatch {np.shape(a)} vs {np.shape(b)}")
        return {"fraction_differing": float((np.asarray(a) != np.asarray(b)).mean())}
    return {"max_abs_diff": max_abs_diff(a, b)}


def within_one_step(comparison):
    return comparison["fraction_beyond_one_step"] <= 1.0 - QUANT_MIN_FRACTION


def reference_run_quantized(model, feeds):
    """onnx.reference as a second opinion for graphs of standard ops (QDQ and dynamic). It
    implements DequantizeLinear only from opset 19, whose meaning for int8/uint8/int32 is that
    of opset 13, so QDQ graphs are evaluated with the ai.onnx opset raised to 19 (the other ops
    in these graphs - Conv, MaxPool, Flatten, Gemm, Add, Relu, Clip, GlobalAveragePool,
    Reshape without allowzero - mean the same at 19). com.microsoft ops are not implemented."""
    if any(n.domain not in ("", "ai.onnx", "ai.onnx.ml") for n in model.graph.node):
        return None, None
    how = "onnx.reference"
    opset = next(imp.version for imp in model.opset_import if imp.domain in ("", "ai.onnx"))
    if opset < 19 and any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in model.graph.node):
        patched = onnx.ModelProto()
        patched.CopyFrom(model)
        for imp in patched.opset_import:
            if imp.domain in ("", "ai.onnx"):
                imp.version = 19
        patched.ir_version = max(patched.ir_version, 9)
        model, how = patched, "onnx.reference (ai.onnx opset raised to 19 for DequantizeLinear)"
    names = [o.name for o in model.graph.output]
    return dict(zip(names, ReferenceEvaluator(model).run(None, feeds))), how


def sqnr_db(reference, quantized):
    reference = np.asarray(reference, dtype=np.float64)
    noise = float(np.sum((np.asarray(quantized, dtype=np.float64) - reference) ** 2))
    return float(10 * np.log10(float(np.sum(reference ** 2)) / noise)) if noise > 0 else None


def ort_optimized_ops(blob):
    """The ops ORT actually runs at ORT_ENABLE_ALL (QDQ groups fused into QLinearConv etc.): what
    the ort_opt references and an ORT int8 benchmark measure. CPU-dependent (NCHWc layouts,
    kernel choice), so it describes this machine, not the model."""
    with tempfile.TemporaryDirectory(prefix="flotilla-ortopt.") as folder:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = 1
        options.log_severity_level = 3
        options.optimized_model_filepath = str(Path(folder) / "optimized.onnx")
        ort.InferenceSession(blob, options, providers=["CPUExecutionProvider"])
        optimized = onnx.load(options.optimized_model_filepath)
    ops = {}
    for node in optimized.graph.node:
        ops[op_label(node)] = ops.get(op_label(node), 0) + 1
    return dict(sorted(ops.items()))


def reference_files(out, name, kind, result):
    names = list(result)
    return {n: out.npy(f"{QUANT_DIR}/{name}.{kind}.npy" if len(names) == 1
                       else f"{QUANT_DIR}/{name}.{kind}.{n}.npy", result[n]) for n in names}


def quantization_calibration(out, data):
    """Calibration rows per fp32 source, and how the manifest describes them."""
    shape = (MOBILENET_QUANT_CALIBRATION, 3, MOBILENET_RESOLUTION, MOBILENET_RESOLUTION)
    noise = seeded_rng("mobilenetv2-quant-calibration").standard_normal(shape).astype(np.float32)
    split = out.datasets["calibration"]
    return {
        "digits_cnn": (data["calibration"][0], {"data": split["x"], "count": split["count"]}),
        # The same kind of input as the fp32 fixture's (N(0, 1) noise), but other draws; not
        # stored (3.5 MB), numpy regenerates it from the seed.
        "mobilenetv2_shaped": (noise, {
            "data": "seeded N(0, 1) noise, not stored: numpy.random.default_rng([SEED, "
                    f"zlib.crc32(b'mobilenetv2-quant-calibration')]).standard_normal({shape})"
                    ".astype(float32)",
            "count": MOBILENET_QUANT_CALIBRATION}),
        "digits_mlp": (None, None),  # quantize_dynamic needs no calibration
    }


def compare_with_noopt(name, outputs, noopt, others):
    """Each other evaluation (ORT optimized, onnx.reference, one row at a time) against the
    ort_noopt reference: in quantization steps where the output has one, else by value. For a
    stepped output every comparison must already meet the runtime's own criterion."""
    observed = {}
    for tensor, info in outputs.items():
        compare = {}
        for what, result in others.items():
            if result is None:
                continue
            if "scale" in info:
                c = steps_apart(result[tensor], noopt[tensor], info["scale"])
                require(within_one_step(c), f"{name}: {what} and ORT without optimizations differ by "
                        f"more than one step on {c['fraction_beyond_one_step']:.4%} of {tensor}, "
                        "more than the int8 runtime is allowed")
            else:
                c = value_difference(result[tensor], noopt[tensor])
            compare[what] = c
        observed[tensor] = compare
    return observed


def quantized_tolerance(name, outputs, observed):
    stepped = {t: i["scale"] for t, i in outputs.items() if "scale" in i}
    if len(stepped) == len(outputs):
        return {"quantization_steps": 1, "min_fraction": QUANT_MIN_FRACTION, "step": stepped}
    # No fixed output step (dynamic quantization): labels exact, floats 10x the largest
    # difference between ORT plain, ORT optimized and onnx.reference on the same batch.
    exact = sorted(t for t, cs in observed.items() if any("fraction_differing" in c and "max_steps" not in c
                                                           for c in cs.values()))
    require(all(c["fraction_differing"] == 0 for t in exact for w, c in observed[t].items() if w != "per_row"),
            f"{name}: ORT with optimizations or onnx.reference predicts other labels")
    worst = max(c["max_abs_diff"] for cs in observed.values() for w, c in cs.items()
                if w != "per_row" and "max_abs_diff" in c)
    require(worst < 1e-4, f"{name}: ORT optimized or onnx.reference differ from ORT by {worst}")
    return dict(suggest_tolerance(worst, rtol=1e-4), exact_outputs=exact)


def accuracy_and_fidelity(entry32, fp32_outputs, results, test_y, dynamic):
    """Top-1 on the digits test split beside fp32's, and how far int8 is from fp32."""
    score = "label" if dynamic else next(iter(results["ort_noopt"]))
    floats = "probabilities" if dynamic else score
    noopt, reference = results["ort_noopt"][floats], fp32_outputs[floats]
    fidelity = {"output": floats, "max_abs_diff": max_abs_diff(noopt, reference),
                "sqnr_db": sqnr_db(reference, noopt),
                "top1_agreement": float((noopt.argmax(axis=1) == reference.argmax(axis=1)).mean())}
    if entry32["accuracy"] is None:
        return None, fidelity
    accuracy = {"fp32_test": entry32["accuracy"]["test"], "labels": entry32["accuracy"]["labels"]}
    for kind, result in results.items():
        predicted = result["label"] if dynamic else result[score].argmax(axis=1)
        accuracy["test_" + kind] = float((predicted == test_y).mean())
    require(accuracy["test_ort_noopt"] >= accuracy["fp32_test"] - 0.02,
            f"int8 accuracy {accuracy['test_ort_noopt']:.4f} is more than 2 points below "
            f"fp32's {accuracy['fp32_test']:.4f}")
    return accuracy, fidelity


def make_quantized_models(out, data):
    fp32 = {entry["name"]: entry for entry in out.models}
    calibration = quantization_calibration(out, data)
    for name, source, settings in QUANTIZED_MODELS:
        entry32 = fp32[source]
        input_name, input_path = next(iter(entry32["inputs"].items()))
        rows, calibration_entry = calibration[source]
        dynamic = settings["format"] == "dynamic"
        builds = []
        # Built twice from scratch: ORT's quantizer should be deterministic given the same
        # inputs, and a fixture that is not would differ on every regeneration.
        for _ in range(2):
            with tempfile.TemporaryDirectory(prefix="flotilla-quant.") as folder:
                builds.append(quantize_with_ort(out.root / entry32["model"], settings, input_name,
                                                rows, Path(folder)))
        require(builds[0] == builds[1], f"{name}: two quantizations of {source} with the same "
                "settings and calibration data gave different bytes")
        blob = builds[0]
        model = onnx.load_from_string(blob)
        onnx.checker.check_model(model, full_check=True)
        out.raw(f"{QUANT_DIR}/{name}.onnx", blob)

        x = np.load(out.root / input_path)
        results = {"ort_noopt": ort_run(blob, {input_name: x}),
                   "ort_opt": ort_run(blob, {input_name: x}, optimized=True)}
        per_row = None
        if len(x) > 1:
            rows_out = [ort_run(blob, {input_name: x[i:i + 1]}) for i in range(len(x))]
            per_row = {n: np.concatenate([r[n] for r in rows_out]) for n in results["ort_noopt"]}
        second, second_how = reference_run_quantized(model, {input_name: x})
        outputs = output_quantization(model)
        noopt = results["ort_noopt"]
        # Static quantization couples no samples, so one row at a time must give the batch's
        # result (up to float summation order); dynamic quantization does couple them.
        observed = compare_with_noopt(name, outputs, noopt, {
            "ort_opt": results["ort_opt"], "second_opinion": second, "per_row": per_row})
        references = {kind: reference_files(out, name, kind, result) for kind, result in results.items()}
        if dynamic:
            # DynamicQuantizeLinear takes one scale over the whole input tensor, so a row's
            # output depends on the rows fed with it: keep ORT's row-at-a-time output too, for
            # a runtime (or the device agent) that runs one sample at a time.
            references["ort_noopt_per_row"] = reference_files(out, name, "ort_noopt.per_row", per_row)
            results["ort_noopt_per_row"] = per_row
        fp32_outputs = {t: np.load(out.root / p) for t, p in entry32["outputs"].items()}
        try:
            accuracy, fidelity = accuracy_and_fidelity(entry32, fp32_outputs, results, data["test"][1], dynamic)
        except FixtureError as error:
            raise FixtureError(f"{name}: {error}") from None

        ops = {}
        for node in model.graph.node:
            ops[op_label(node)] = ops.get(op_label(node), 0) + 1
        tool = "quantize_dynamic" if dynamic else "quantize_static"
        quantization = {"tool": f"onnxruntime.quantization.{tool}", "reduce_range": False, **settings,
                        "preprocess": "onnxruntime.quantization.shape_inference.quant_pre_process, defaults"}
        if not dynamic:
            quantization["calibration"] = dict(calibration_entry, reader="one sample per get_next, in order")
        out.add_model_entry({
            "name": name,
            "model": f"{QUANT_DIR}/{name}.onnx",
            "source_model": entry32["model"],
            "quantization": quantization,
            "opsets": {imp.domain or "ai.onnx": imp.version for imp in model.opset_import},
            "domains_used": sorted({n.domain or "ai.onnx" for n in model.graph.node}),
            "ir_version": model.ir_version,
            "inputs": {input_name: input_path},
            "outputs": references["ort_noopt"],
            "references": references,
            "reference": "onnxruntime",
            "output_quantization": outputs,
            "tolerance": quantized_tolerance(name, outputs, observed),
            "observed": observed,
            "second_opinion": second_how,
            "fp32_fidelity": fidelity,
            "accuracy": accuracy,
            "ops": sorted(ops),
            "op_counts": dict(sorted(ops.items())),
            "ort_opt_graph_op_counts": ort_optimized_ops(blob),
            "byte_stable": True,
        }, into=out.quantized)
        summary = ", ".join(
            f"{t} " + "/".join(f"{w} {c['max_steps']} step(s) on {c['fraction_differing']:.2%}"
                               if "max_steps" in c else f"{w} {c['max_abs_diff']:.1e}" if "max_abs_diff" in c
                               else f"{w} {c['fraction_differing']:.2%} differ" for w, c in cs.items())
            for t, cs in observed.items())
        log(f"{QUANT_DIR}/{name}: {len(blob) / 1e3:.0f} kB, "
            + (f"accuracy {accuracy['test_ort_noopt']:.4f} (opt {accuracy['test_ort_opt']:.4f}, "
               f"fp32 {accuracy['fp32_test']:.4f}), " if accuracy else "")
            + f"SQNR vs fp32 {fidelity['sqnr_db']:.1f} dB; vs ORT noopt: {summary}")
    return len(QUANTIZED_MODELS)


# ---------------------------------------------------------------------------------------------


def main(args):
    out = Output(args.out)
    out.root.mkdir(parents=True, exist_ok=True)
    before = {p.relative_to(out.root).as_posix() for p in out.root.rglob("*") if p.is_file()}
    log(f"writing fixtures to {out.root}")

    data = make_digits(out)
    make_digits_cnn(out, data)
    make_digits_mlp(out, data)
    make_mobilenet(out)
    count, ort_max, onnx_max = make_opset_models(out)
    quantized_count = make_quantized_models(out, data)

    manifest = {
        "format": 1,
        "generator": "scripts/make-fixtures.py",
        "regenerate": "python3 scripts/make-fixtures.py --out Tests/Fixtures",
        "seed": SEED,
        "packages": {dist: importlib.metadata.version(dist) for dist in REQUIREMENTS},
        "reference_runtime": "onnxruntime CPUExecutionProvider, graph optimizations disabled, 1 thread",
        "tolerance_rule": "|ours - reference| <= atol + rtol * |reference|, elementwise",
        "newest_opset": {"onnx": onnx_max, "onnxruntime": ort_max},
        "datasets": {"digits": out.datasets},
        "models": out.models,
        "quantized": {
            "directory": QUANT_DIR,
            "models": out.quantized,
            "reference_runtime": "onnxruntime CPUExecutionProvider, 1 thread; outputs with graph "
                                 "optimizations disabled (ort_noopt) and at ORT_ENABLE_ALL, ORT's "
                                 "default (ort_opt)",
            "tolerance_rule": "outputs after a final DequantizeLinear: |ours - reference| <= "
                              "quantization_steps * step (the DequantizeLinear's scale) on at least "
                              "min_fraction of the values; other outputs: atol + rtol * |reference|",
        },
    }
    out.json("manifest.json", manifest)

    total = sum((out.root / p).stat().st_size for p in out.written)
    stale = sorted(before - set(out.written))
    log(f"done: {len(out.written)} files, {total / 1e6:.2f} MB, {count} opset models, "
        f"{quantized_count} quantized models")
    if stale:
        print("warning: files in the output folder that this run did not write (delete them "
              "if they are stale): " + ", ".join(stale), file=sys.stderr)


if __name__ == "__main__":
    try:
        main(ARGS)
    except FixtureError as error:
        sys.exit(f"make-fixtures: {error}")
