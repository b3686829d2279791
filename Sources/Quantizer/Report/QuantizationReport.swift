public import Foundation

/// What `flotilla quantize` writes: one entry per hardware class (docs/quantization.md
/// "Report"). JSON keeps every per-layer SQNR; the table shows the worst ten.
public struct QuantizationReport: Sendable, Codable, Hashable {
    public struct ClassReport: Sendable, Codable, Hashable {
        public var hardwareClass: String
        public var calibrator: String
        public var recipes: [String]
        public var budget: AccuracyBudget
        public var budgetMet: Bool
        public var stoppedByTime: Bool
        public var evaluation: EvaluationResult
        public var int8Layers: [String]
        public var fp32Layers: [QuantizedModel.FP32Layer]
        public var warnings: [String]
        public var trials: [AccuracyTuner.Trial]
        /// Where the variant was written (QDQ ONNX), if it was.
        public var output: String?

        public init(outcome: AccuracyTuner.Outcome, budget: AccuracyBudget, output: String? = nil) {
            hardwareClass = outcome.model.hardwareClass
            // Dynamic and already-quantized variants were not calibrated here.
            let calibrated = !outcome.model.recipesApplied.contains { $0 == "dynamic activations" || $0 == "input model's own scales" }
            calibrator = calibrated ? outcome.model.calibrator.rawValue : "none"
            recipes = outcome.model.recipesApplied
            self.budget = budget
            budgetMet = outcome.budgetMet
            stoppedByTime = outcome.stoppedByTime
            evaluation = outcome.result
            int8Layers = outcome.model.int8Nodes
            fp32Layers = outcome.model.fp32Layers
            warnings = outcome.model.warnings
            trials = outcome.trials
            self.output = output
        }
    }

    public var model: String
    /// How accuracy was computed: the int8 reference kernels (bit-exact with every class's
    /// optimized path) on this many labelled samples.
    public var evaluatedWith: String
    public var classes: [ClassReport]

    public init(model: String, evaluatedWith: String, classes: [ClassReport]) {
        self.model = model
        self.evaluatedWith = evaluatedWith
        self.classes = classes
    }

    public func json() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }
}
