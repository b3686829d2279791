#!/usr/bin/env python3
"""ONNX Runtime's quantize_static on a model, as the peer of `flotilla quantize`.

Per-channel, QDQ, uint8 activations / int8 weights (ORT's recommended CPU setting), each
calibration method asked for (MinMax, Entropy, Percentile), the calibration data fed in
batches of --batch. Prints one JSON object: per method the wall time of quantize_static
(calibration included) and the int8 top-1 accuracy of the result on the evaluation set with
ORT (one thread), plus the fp32 accuracy. Run under /usr/bin/time -v for peak memory.
"""
import argparse
import contextlib
import json
import os
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static


class Reader(CalibrationDataReader):
    def __init__(self, name, data, batch):
        self.name, self.data, self.batch, self.i = name, data, batch, 0

    def get_next(self):
        if self.i >= len(self.data):
            return None
        chunk = self.data[self.i:self.i + self.batch]
        self.i += self.batch
        return {self.name: chunk}

    def rewind(self):
        self.i = 0


def accuracy(model_path, x, y):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    # The class scores: the first float output with a class axis (the MLP's first output is its
    # int64 label, its second the probabilities).
    scores = [o.name for o in sess.get_outputs() if o.type == "tensor(float)" and len(o.shape) == 2]
    out = sess.run(scores[:1] or None, {name: x})[0]
    return float((out.argmax(axis=1) == y).mean())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--calibration", required=True)
    p.add_argument("--eval", required=True)
    p.add_argument("--labels", required=True)
    p.add_argument("--methods", default="MinMax,Entropy,Percentile")
    # Equal batches: ORT's histogram collectors stack every batch's output with np.asarray and fail
    # on a shorter last batch, so the batch must divide the sample count (100 and 1000 here).
    p.add_argument("--batch", type=int, default=50)
    a = p.parse_args()
    cal = np.load(a.calibration).astype(np.float32)
    x = np.load(a.eval).astype(np.float32)
    y = np.load(a.labels)
    name = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"]).get_inputs()[0].name
    result = {"fp32_accuracy": accuracy(a.model, x, y), "calibration_samples": int(len(cal)), "methods": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for m in a.methods.split(","):
            out = os.path.join(tmp, f"{m}.onnx")
            start = time.perf_counter()
            # quantize_static prints its progress on stdout, which carries our JSON.
            with contextlib.redirect_stdout(sys.stderr):
                quantize_static(
                    a.model, out, Reader(name, cal, a.batch), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                    calibrate_method=getattr(CalibrationMethod, m))
            seconds = time.perf_counter() - start
            result["methods"][m] = {"seconds": seconds, "int8_accuracy": accuracy(out, x, y)}
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
