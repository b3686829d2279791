// Replaced by the generated onnx.pb.swift (scripts/generate-onnx-proto.sh).
