# One-off generator of the fixtures beside it, kept so they can be remade and audited.
# Made with: python3 -m venv v && v/bin/pip install onnx==1.23.2 && v/bin/python make_fixtures.py
# The values are exact binary fractions so the Swift tests can recompute them without tolerances.
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

here = os.path.dirname(os.path.abspath(__file__))

# Conv(3x3, pad 1) -> Relu -> Reshape to [1, 32]: raw_data fp32 weights, int64_data shape.
weights = (np.arange(18, dtype=np.float32) - 9) * 0.125
bias = np.array([0.5, -0.25], dtype=np.float32)
w_init = numpy_helper.from_array(weights.reshape(2, 1, 3, 3), name="conv.weight")  # raw_data
b_init = numpy_helper.from_array(bias, name="conv.bias")
shape_init = helper.make_tensor("shape", TensorProto.INT64, [2], [1, 32], raw=False)  # int64_data

graph = helper.make_graph(
    [
        helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["conv_out"], name="conv0",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
        helper.make_node("Relu", ["conv_out"], ["relu_out"], name="relu0"),
        helper.make_node("Reshape", ["relu_out", "shape"], ["y"], name="reshape0"),
    ],
    "tiny_conv",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 4, 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 32])],
    initializer=[w_init, b_init, shape_init],
)
model = helper.make_model(graph, producer_name="flotilla-fixture", producer_version="1",
                          opset_imports=[helper.make_opsetid("", 21)])
model.ir_version = 10
onnx.checker.check_model(model, full_check=True)
onnx.save(model, os.path.join(here, "tiny_conv.onnx"))

# Backend-test style data: input_0.pb is a bare TensorProto, as in test_data_set_*/.
x = (np.arange(16, dtype=np.float32) * 0.25).reshape(1, 1, 4, 4)
with open(os.path.join(here, "input_0.pb"), "wb") as f:
    f.write(numpy_helper.from_array(x, name="x").SerializeToString())

# onnx-data.proto's SequenceProto: two int32 tensors of different lengths.
seq = numpy_helper.from_list([np.array([1, 2, 3], dtype=np.int32), np.array([-4], dtype=np.int32)],
                             name="seq")
with open(os.path.join(here, "sequence_0.pb"), "wb") as f:
    f.write(seq.SerializeToString())

for name in ("tiny_conv.onnx", "input_0.pb", "sequence_0.pb"):
    print(name, os.path.getsize(os.path.join(here, name)), "bytes")
