public import ModelIR

/// What `StaticQuantizer` produced: the QDQ model and everything the evaluation and report
/// need to explain it.
public struct QuantizedModel: Sendable {
    /// A node left in fp32, and why.
    public struct FP32Layer: Sendable, Hashable, Codable {
        public var node: String
        public var opType: String
        public var reason: String

        public init(node: String, opType: String, reason: String) {
            self.node = node
            self.opType = opType
            self.reason = reason
        }
    }

    /// The QDQ model: QuantizeLinear → DequantizeLinear on every quantized activation, int8
    /// weights and int32 biases behind DequantizeLinear, the ops themselves in fp32 form.
    public var model: Model
    public var hardwareClass: String
    public var calibrator: HardwareClass.CalibratorKind
    /// Recipes that ran before parameters were chosen ("crossLayerEqualization", ...).
    public var recipesApplied: [String]
    /// Parameters of every quantized activation, by its fp32 value name (which the
    /// DequantizeLinear output keeps, so the graph's readers and outputs are unchanged).
    public var activationParameters: [String: AffineParameters]
    /// fp32 value name → the QuantizeLinear output holding its int8 bytes.
    public var quantizedValues: [String: String]
    /// Nodes that run in int8 once QDQFusion has run (their inputs and outputs are quantized).
    public var int8Nodes: [String]
    public var fp32Layers: [FP32Layer]
    /// Things an operator should know (saturated biases, refused recipes...).
    public var warnings: [String]
}
