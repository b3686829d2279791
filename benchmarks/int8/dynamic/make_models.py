#!/usr/bin/env python3
"""Makes the dynamic-quantization (QOperator integer ops) benchmark models from the fp32
fixtures with ONNX Runtime's own tool, as a user quantizing elsewhere would:

    quant_pre_process(fp32, pre); quantize_dynamic(pre, out, per_channel=False, weight_type=QInt8)

quantize_dynamic's default op set turns MatMul into DynamicQuantizeLinear → MatMulInteger and
Conv into DynamicQuantizeLinear → ConvInteger (each followed by Cast and Mul back to float32).
Usage: make_models.py FIXTURES_DIR OUT_DIR MODEL...   (writes OUT_DIR/MODEL.dynamic.onnx)
"""
import os
import sys

from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.quantization.shape_inference import quant_pre_process


def main():
    fixtures, out, models = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    for m in models:
        pre = os.path.join(out, f"{m}.pre.onnx")
        dst = os.path.join(out, f"{m}.dynamic.onnx")
        quant_pre_process(os.path.join(fixtures, f"{m}.onnx"), pre)
        quantize_dynamic(pre, dst, per_channel=False, weight_type=QuantType.QInt8)
        print(dst, file=sys.stderr)


if __name__ == "__main__":
    main()
