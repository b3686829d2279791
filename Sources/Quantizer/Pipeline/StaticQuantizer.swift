public import ModelIR

/// Static post-training quantization of an fp32 model (after the standard passes) into the
/// QDQ form for one hardware class (docs/quantization.md "Static PTQ").
///
/// Calibration data streams through the fp32 runtime once (twice when bias correction runs);
/// activation parameters follow the class's activation type with Relu/Clip folded into ranges
/// and shared parameters where the op moves bytes (`SharedParameterGroups`); weights are
/// symmetric int8 per channel or per tensor with the class's bit width; biases int32 with
/// scale s_x·s_w. The result runs on ONNX Runtime as written and on Flotilla's int8 kernels
/// after `QDQFusion`.
public struct StaticQuantizer: Sendable {
    public var profile: HardwareClass
    public var calibrator: HardwareClass.CalibratorKind
    /// Node names to leave in fp32 whatever the class runs (accuracy-aware fallback).
    public var keepFP32: Set<String>
    /// Recipes to run before choosing parameters, in the profile's order. Default: the
    /// profile's recipes when its weights are per tensor, none when per channel (per-channel
    /// scales already absorb the channel-range spread CLE fixes; tuning may still try them).
    public var recipes: [HardwareClass.Recipe]
    /// Conv/Gemm/MatMul layers with fewer weights than this stay fp32: their GEMM is so small
    /// that quantizing the input and requantizing the output costs more than int8 saves.
    /// A rule of thumb, not a measurement per class (docs/quantization.md).
    public var minimumWeightElements: Int
    /// Statistics shared with other quantizations of the same data (other calibrators, fallback
    /// trials, other classes); nil = one fresh pass over the data. Results are identical.
    public var calibrationCache: CalibrationCache?

    public init(
        profile: HardwareClass, calibrator: HardwareClass.CalibratorKind? = nil, keepFP32: Set<String> = [],
        recipes: [HardwareClass.Recipe]? = nil, minimumWeightElements: Int = 64, calibrationCache: CalibrationCache? = nil
    ) {
        self.profile = profile
        self.calibrator = calibrator ?? profile.calibrators.first ?? .minmax
        self.keepFP32 = keepFP32
        self.recipes = recipes ?? (profile.weightGranularity == .perTensor ? profile.recipes : [])
        self.minimumWeightElements = minimumWeightElements
        self.calibrationCache = calibrationCache
    }

    /// Ops that read weights: input 1 must be a constant float tensor.
    static let weightedOps: Set<String> = ["Conv", "Gemm", "MatMul"]
    /// Ops whose int8 form only moves bytes; quantized only after a quantized producer, so a
    /// Flatten between two fp32 ops does not pick up a pointless Q/DQ pair.
    static let movementOps: Set<String> = [
        "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Slice", "Split", "MaxPool",
    ]

    /// Quantizes `model`; a model that already holds QuantizeLinear/DequantizeLinear is validated
    /// and returned with its own scales (`QDQInputModel`). `calibration` must be re-iterable (CalibrationData and arrays are):
    /// bias correction reads it once more before calibration.
    public func quantize(
        _ model: Model, calibration: some Sequence<Result<[String: Tensor], QuantizerError>>
    ) throws -> QuantizedModel {
        // Already quantized (QAT, ONNX Runtime QDQ): keep its scales, check it against the class.
        if QDQInputModel.isQuantized(model.graph) { return try QDQInputModel.accept(model, for: profile) }
        var graph = model.graph
        var warnings: [String] = []
        var applied: [String] = []
        for recipe in recipes {
            switch recipe {
            case .crossLayerEqualization:
                let r = try CrossLayerEqualization(clipPolicy: .skip).run(on: &graph)
                applied.append(recipe.rawValue)
                if !r.skipped.isEmpty {
                    warnings.append("CLE skipped \(r.skipped.count) Conv pairs joined by Clip (ReLU6 is not scale-equivariant)")
                }
            case .biasCorrection:
                _ = try BiasCorrection(for: profile).run(on: &graph, data: calibration)
                applied.append(recipe.rawValue)
            }
        }
        let selection = select(graph)
        let activations = selection.activationValues(in: graph)
        let constantInputs = selection.constantDataInputs(in: graph)
        var ranges =
            try calibrationCache?.ranges(graph: graph, values: activations, data: calibration, calibrator: calibrator, profile: profile)
            ?? ActivationCapture.calibrate(
                graph: graph, values: activations, data: calibration,
                makeCalibrator: { CalibratorFactory.make(calibrator, for: profile) })
        foldActivations(&ranges, graph: graph)
        shareParameters(&ranges, graph: graph, selection: selection)
        var parameters: [String: AffineParameters] = [:]
        for v in activations {
            guard let r = ranges[v] else {
                throw QuantizerError.calibration(tensor: v, detail: "no range was calibrated; the value was never computed")
            }
            parameters[v] = try ActivationQuantization.parameters(for: r, type: profile.activationType, tensor: v)
        }
        for c in constantInputs {
            guard let f = graph.constant(c)?.floats, let lo = f.min(), let hi = f.max() else { continue }
            parameters[c] = try ActivationQuantization.parameters(
                for: TensorRange(min: lo, max: hi), type: profile.activationType, tensor: c)
        }
        var emitter = QDQEmitter(graph: graph, profile: profile, parameters: parameters, selection: selection)
        try emitter.emit()
        warnings += emitter.warnings
        var out = model
        out.graph = emitter.graph
        return QuantizedModel(
            model: out, hardwareClass: profile.name, calibrator: calibrator, recipesApplied: applied,
            activationParameters: parameters.filter { activations.contains($0.key) },
            quantizedValues: emitter.quantizedNames, int8Nodes: selection.int8Nodes(graph),
            fp32Layers: selection.fp32, warnings: warnings)
    }

    /// A fused or following Relu/Clip bounds its producer's output range.
    func foldActivations(_ ranges: inout [String: TensorRange], graph: Graph) {
        for node in graph.nodes {
            guard let a = node.fusedActivation, let o = node.outputs.first, let r = ranges[o] else { continue }
            ranges[o] = ActivationQuantization.fold(r, into: a)
        }
    }

    /// Values joined by a quantized byte-moving op (Concat, MaxPool, Reshape...) get one range.
    func shareParameters(_ ranges: inout [String: TensorRange], graph: Graph, selection: Selection) {
        var quantizedOnly = graph
        quantizedOnly.nodes = graph.nodes.filter { selection.quantized.contains($0.name) }
        for group in SharedParameterGroups.groups(in: quantizedOnly) {
            let members = group.filter { ranges[$0] != nil }
            guard let merged = SharedParameterGroups.mergedRange(members, ranges: ranges) else { continue }
            for m in members { ranges[m] = merged }
        }
    }
}
