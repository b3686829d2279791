import ModelIR

/// Signal processing: windows, DFT, STFT, mel filter banks.
extension OpRegistry {
    mutating func registerSignal() {
        for op in ["HannWindow", "HammingWindow", "BlackmanWindow", "MelWeightMatrix"] {
            onnx(op, since: 17) { u in try u.dataTypeAttribute("output_datatype") }
        }
        onnx("STFT", since: 17)
        onnx("DFT", since: 17) { u in
            // DFT-17's `axis` attribute (default 1) became optional input 2 in 20, whose default
            // is -2: the same axis only for rank-3 signals, so the old default is written out.
            guard u.opset < 20 else { return }
            let axis = u.node.attributes.removeValue(forKey: "axis")?.intValue ?? 1
            if u.node.input(2) == nil { u.setInput(2, u.constant(Tensor.scalar(Int64(axis)), "axis")) }
        }
    }
}
