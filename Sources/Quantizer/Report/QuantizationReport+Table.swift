extension QuantizationReport {
    /// A readable summary: one row per class, then each class's fp32 layers and worst SQNRs.
    public func table() -> String {
        var lines: [String] = ["model: \(model)", "evaluated with: \(evaluatedWith)", ""]
        let header = [
            "class", "calibrator", "fp32 top-1", "int8 top-1", "drop pt", "agree", "cosine", "budget", "fp32 B", "int8 B", "int8+zstd B",
            "fp32 ms", "int8 ms",
        ]
        var rows: [[String]] = [header]
        for c in classes {
            let e = c.evaluation
            rows.append([
                c.hardwareClass, c.calibrator + (c.recipes.isEmpty ? "" : " +" + c.recipes.joined(separator: "+")),
                pct(e.fp32Accuracy), pct(e.int8Accuracy), fmt(e.dropPoints), pct(e.agreement), fmt(e.meanCosine, 5),
                c.budgetMet ? "met" : (c.stoppedByTime ? "MISSED (time)" : "MISSED"),
                e.sizes.map { "\($0.fp32Bytes)" } ?? "-", e.sizes.map { "\($0.int8Bytes)" } ?? "-",
                e.sizes?.int8ZstdBytes.map { "\($0)" } ?? "-",
                e.latency.map { fmt($0.fp32Milliseconds, 3) } ?? "-", e.latency.map { fmt($0.int8Milliseconds, 3) } ?? "-",
            ])
        }
        lines += Self.align(rows)
        if let l = classes.compactMap(\.evaluation.latency).first { lines.append("latency: \(l.host), \(l.runs) runs") }
        for c in classes {
            lines.append("")
            lines.append("\(c.hardwareClass): budget \(c.budget); \(c.int8Layers.count) int8 nodes, \(c.fp32Layers.count) fp32")
            for f in c.fp32Layers { lines.append("  fp32 \(f.node) (\(f.opType)): \(f.reason)") }
            let worst = c.evaluation.layerSQNR.prefix(10)
            if !worst.isEmpty {
                lines.append("  worst SQNR: " + worst.map { "\($0.value) \(fmt($0.decibels, 1)) dB" }.joined(separator: ", "))
            }
            for w in c.warnings { lines.append("  warning: \(w)") }
            if !c.budgetMet { lines += Self.whyMissed(c) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A missed budget, explained: what ended the search, every candidate tried with its
    /// figures (the kept one is the best of them), and what the operator can change.
    static func whyMissed(_ c: ClassReport) -> [String] {
        var lines = [
            c.stoppedByTime
                ? "  budget MISSED: the time budget ended the search after \(c.trials.count) candidates"
                : "  budget MISSED: no candidate met it; \(c.trials.count) tried (calibrators, recipes, fp32 fallback of the most sensitive layers)"
        ]
        for t in c.trials {
            lines.append(
                "    tried \(t.description): int8 top-1 \(pct(t.int8Accuracy)), drop \(fmt(t.dropPoints)) pt, agree \(pct(t.agreement))")
        }
        lines.append(
            "  to fix: "
                + (c.stoppedByTime ? "give --time-budget more seconds, or " : "")
                + "loosen --budget, add calibration data like the inputs that fail, or add calibrators/recipes to the class profile")
        return lines
    }

    static func align(_ rows: [[String]]) -> [String] {
        let widths = (0..<(rows.first?.count ?? 0)).map { i in rows.map { $0.count > i ? $0[i].count : 0 }.max() ?? 0 }
        return rows.map { r in
            r.enumerated().map { i, s in
                i == 0
                    ? s.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[i] - s.count) + s
            }.joined(separator: "  ")
        }
    }
}
