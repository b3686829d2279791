// ONNXImport: reads ONNX models (ONNXProto) into ModelIR through an op registry split by domain,
// reporting every unsupported op with node context. Being built under issue #3.
