public import ModelIR

/// Accuracy-aware search for one class (docs/quantization.md "Tuning"):
/// 1. each calibrator of the profile in its order, with the default recipes; the first that
///    meets the budget wins;
/// 2. if none does, the best calibrator again with every recipe the profile lists;
/// 3. if still missed, per-layer sensitivity (each int8 layer left in fp32 alone, measured) and
///    the most sensitive layers fall back to fp32 one by one until the budget is met.
/// Stops when the time budget is spent; the best candidate seen is always the one returned.
public struct AccuracyTuner: Sendable {
    /// One quantize-and-evaluate step, for the report.
    public struct Trial: Sendable, Codable, Hashable {
        public var description: String
        public var int8Accuracy: Double
        public var dropPoints: Double
        public var agreement: Double
        public var budgetMet: Bool

        public init(description: String, int8Accuracy: Double, dropPoints: Double, agreement: Double, budgetMet: Bool) {
            self.description = description
            self.int8Accuracy = int8Accuracy
            self.dropPoints = dropPoints
            self.agreement = agreement
            self.budgetMet = budgetMet
        }
    }

    public struct Outcome: Sendable {
        public var model: QuantizedModel
        /// The full evaluation of `model` (SQNR, sizes, latency included).
        public var result: EvaluationResult
        public var budgetMet: Bool
        public var trials: [Trial]
        public var stoppedByTime: Bool
    }

    public var profile: HardwareClass
    public var budget: AccuracyBudget
    public var timeBudget: Duration
    public var evaluator: ModelEvaluator
    /// At most this many layers fall back to fp32.
    public var maxFallbacks: Int
    public var progress: (@Sendable (String) -> Void)?
    /// Calibration statistics to share across trials (and, when the caller passes one cache
    /// for several classes, across classes); nil = a cache private to each `tune` call.
    public var calibrationCache: CalibrationCache?

    public init(
        profile: HardwareClass, budget: AccuracyBudget, timeBudget: Duration = .seconds(600),
        evaluator: ModelEvaluator = ModelEvaluator(), maxFallbacks: Int = 8, progress: (@Sendable (String) -> Void)? = nil,
        calibrationCache: CalibrationCache? = nil
    ) {
        self.profile = profile
        self.budget = budget
        self.timeBudget = timeBudget
        self.evaluator = evaluator
        self.maxFallbacks = maxFallbacks
        self.progress = progress
        self.calibrationCache = calibrationCache
    }

    struct Candidate {
        var model: QuantizedModel
        var result: EvaluationResult
        var met: Bool

        /// Met first, then accuracy, agreement, cosine, then fewer fp32 fallbacks.
        func isBetter(than o: Candidate) -> Bool {
            if met != o.met { return met }
            if result.int8Accuracy != o.result.int8Accuracy { return result.int8Accuracy > o.result.int8Accuracy }
            if result.agreement != o.result.agreement { return result.agreement > o.result.agreement }
            if result.meanCosine != o.result.meanCosine { return result.meanCosine > o.result.meanCosine }
            return model.fp32Layers.count < o.model.fp32Layers.count
        }
    }

    public func tune(
        _ fp32: Model, calibration: some Sequence<Result<[String: Tensor], QuantizerError>>, evaluation: EvaluationSet
    ) throws -> Outcome {
        if QDQInputModel.isQuantized(fp32.graph) { return try acceptQuantized(fp32, evaluation: evaluation) }
        let clock = ContinuousClock(), start = clock.now
        var outOfTime: Bool { clock.now - start > timeBudget }
        let reference = try evaluator.reference(fp32, data: evaluation)
        let cache = calibrationCache ?? CalibrationCache()
        var trials: [Trial] = []
        var best: Candidate?
        func attempt(_ quantizer: StaticQuantizer, _ what: String) throws -> Candidate {
            var q = quantizer
            q.calibrationCache = cache
            let m = try q.quantize(fp32, calibration: calibration)
            let r = try evaluator.quickEvaluate(m, reference: reference, data: evaluation)
            let c = Candidate(model: m, result: r, met: budget.isMet(by: r))
            trials.append(
                Trial(description: what, int8Accuracy: r.int8Accuracy, dropPoints: r.dropPoints, agreement: r.agreement, budgetMet: c.met))
            progress?(
                "\(profile.name): \(what): int8 top-1 \(pct(r.int8Accuracy)), drop \(fmt(r.dropPoints)) pt\(c.met ? " (budget met)" : "")")
            if best.map({ c.isBetter(than: $0) }) ?? true { best = c }
            return c
        }
        var stoppedByTime = false
        search: do {
            for kind in profile.calibrators {
                if best != nil && outOfTime {
                    stoppedByTime = true
                    break search
                }
                if try attempt(StaticQuantizer(profile: profile, calibrator: kind), "calibrator \(kind.rawValue)").met { break search }
            }
            guard let chosen = best else { break search }
            let defaultRecipes = StaticQuantizer(profile: profile).recipes
            if !profile.recipes.isEmpty && profile.recipes != defaultRecipes {
                if outOfTime {
                    stoppedByTime = true
                    break search
                }
                let q = StaticQuantizer(profile: profile, calibrator: chosen.model.calibrator, recipes: profile.recipes)
                if try attempt(
                    q, "calibrator \(chosen.model.calibrator.rawValue) + \(profile.recipes.map(\.rawValue).joined(separator: " + "))"
                ).met {
                    break search
                }
            }
            guard let base = best else { break search }
            let recipes = base.model.recipesApplied.compactMap { HardwareClass.Recipe(rawValue: $0) }
            let make = { (keep: Set<String>) in
                StaticQuantizer(profile: profile, calibrator: base.model.calibrator, keepFP32: keep, recipes: recipes)
            }
            // Sensitivity: how much each compute layer, left fp32 alone, gives back.
            let layers = base.model.int8Nodes.filter { n in
                !StaticQuantizer.movementOps.contains(base.model.model.graph.nodes.first { $0.name == n }?.opType ?? "")
            }
            var gains: [(String, Candidate)] = []
            for layer in layers {
                if outOfTime {
                    stoppedByTime = true
                    break search
                }
                gains.append((layer, try attempt(make([layer]), "sensitivity: \(layer) in fp32")))
                if gains.last?.1.met == true { break search }
            }
            gains.sort { $0.1.isBetter(than: $1.1) }
            var keep: Set<String> = []
            for (layer, _) in gains.prefix(maxFallbacks) {
                if outOfTime {
                    stoppedByTime = true
                    break search
                }
                keep.insert(layer)
                if keep.count == 1 { continue }  // measured alone above
                if try attempt(make(keep), "fallback: \(keep.sorted().joined(separator: ", ")) in fp32").met { break search }
            }
        }
        guard let winner = best else {
            throw QuantizerError.graph(node: fp32.graph.name, detail: "the time budget ended before any candidate was evaluated; raise it")
        }
        let full = try evaluator.evaluate(winner.model, fp32: fp32, reference: reference, data: evaluation)
        return Outcome(model: winner.model, result: full, budgetMet: winner.met, trials: trials, stoppedByTime: stoppedByTime)
    }
}

extension AccuracyTuner {
    /// A model that is already QDQ keeps its scales: one candidate, measured against its fp32
    /// equivalent (weights dequantized, activation Q/DQ removed). No fallback is tried.
    func acceptQuantized(_ model: Model, evaluation: EvaluationSet) throws -> Outcome {
        let q = try QDQInputModel.accept(model, for: profile)
        let fp32 = try QDQInputModel.fp32Equivalent(model)
        let reference = try evaluator.reference(fp32, data: evaluation)
        let r = try evaluator.evaluate(q, fp32: fp32, reference: reference, data: evaluation)
        let met = budget.isMet(by: r)
        progress?(
            "\(profile.name): input model already quantized: kept its scales, int8 top-1 \(pct(r.int8Accuracy)), drop \(fmt(r.dropPoints)) pt"
        )
        let trial = Trial(
            description: "input model's own scales", int8Accuracy: r.int8Accuracy, dropPoints: r.dropPoints, agreement: r.agreement,
            budgetMet: met)
        return Outcome(model: q, result: r, budgetMet: met, trials: [trial], stoppedByTime: false)
    }
}

extension AccuracyTuner {
    /// Dynamic quantization (no calibration data): one candidate, evaluated; the budget is
    /// checked but no fallback is searched.
    public func tuneDynamic(_ fp32: Model, evaluation: EvaluationSet) throws -> Outcome {
        let q = try DynamicQuantizer(profile: profile).quantize(fp32)
        let reference = try evaluator.reference(fp32, data: evaluation)
        let r = try evaluator.evaluate(q, fp32: fp32, reference: reference, data: evaluation)
        let met = budget.isMet(by: r)
        let trial = Trial(
            description: "dynamic activations", int8Accuracy: r.int8Accuracy, dropPoints: r.dropPoints, agreement: r.agreement,
            budgetMet: met)
        return Outcome(model: q, result: r, budgetMet: met, trials: [trial], stoppedByTime: false)
    }
}

func pct(_ x: Double) -> String { fmt(x * 100) + "%" }

func fmt(_ x: Double, _ digits: Int = 2) -> String {
    guard x.isFinite else { return "\(x)" }
    var p = 1.0
    for _ in 0..<digits { p *= 10 }
    let r = (x * p).rounded() / p
    var s = "\(r)"
    if let dot = s.firstIndex(of: ".") {
        let decimals = s.distance(from: dot, to: s.endIndex) - 1
        if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
    } else if digits > 0 {
        s += "." + String(repeating: "0", count: digits)
    }
    return s
}
