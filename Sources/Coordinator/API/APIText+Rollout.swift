/// Terminal renderings of API answers, shared by the `flotilla` CLI and the demo.
public enum APIText {
    /// `[######xx------]  57%`: `#` committed, `x` failed, `-` not yet; the percentage is of
    /// devices done (committed or failed).
    public static func progressBar(updated: Int, failed: Int, total: Int, width: Int = 20) -> String {
        guard total > 0 else { return "[" + String(repeating: " ", count: width) + "]    -" }
        let u = min(updated, total)
        let f = min(failed, total - u)
        var good = Int((Double(u) / Double(total) * Double(width)).rounded(.down))
        var bad = Int((Double(f) / Double(total) * Double(width)).rounded(.up))
        if u == total { good = width }
        if good + bad > width { bad = width - good }
        if u > 0 && good == 0 && bad < width { good = 1 }
        let rest = max(0, width - good - bad)
        let percent = Int((Double(u + f) / Double(total) * 100).rounded(.down))
        let label = String(repeating: " ", count: max(0, 4 - "\(percent)%".count)) + "\(percent)%"
        return "[" + String(repeating: "#", count: good) + String(repeating: "x", count: bad) + String(repeating: "-", count: rest)
            + "] " + label
    }

    /// `flotilla rollout status ID`: the header, every wave with a progress bar per class, the
    /// classes' latency and accuracy beside the baseline, and the gate checks that failed or
    /// were last evaluated.
    public static func rolloutStatus(_ r: APIRollout) -> String {
        var out: [String] = []
        let waveText = r.waves.isEmpty ? "" : " (wave \(min(r.currentWave + 1, r.waves.count)) of \(r.waves.count))"
        out.append("Rollout \(r.id): \(r.modelName) \(r.version) (release \(r.releaseSequence)) — \(r.status)\(waveText)")
        if let reason = r.statusReason { out.append("  \(reason)") }
        out.append(
            "  target '\(r.target.isEmpty ? "<all devices>" : r.target)', soak \(APIFormat.duration(r.soakSeconds)), "
                + "on failure: roll back \(policyText(r.onFailure)); started by \(r.createdBy) at \(APIFormat.time(r.createdAtMs))")
        out.append("")
        out.append("Waves")
        var waves = APITextTable(
            ["wave", "share", "class", "progress", "updated", "failed", "gate", "status"],
            alignments: [.right, .right, .left, .left, .right, .right, .left, .left])
        for wave in r.waves {
            for (i, c) in wave.classes.enumerated() {
                waves.add([
                    i == 0 ? "\(wave.index + 1)" : "", i == 0 ? APIFormat.percent(wave.fraction) : "", c.hardwareClass,
                    progressBar(updated: c.updated, failed: c.failed, total: c.targeted), "\(c.updated)/\(c.targeted)", "\(c.failed)",
                    c.gatePassed.map { $0 ? "passed" : "FAILED" } ?? "-", i == 0 ? wave.status : "",
                ])
            }
            if wave.classes.isEmpty {
                waves.add(["\(wave.index + 1)", APIFormat.percent(wave.fraction), "-", "", "", "", "", wave.status])
            }
        }
        out.append(waves.render())
        if !r.classes.isEmpty {
            out.append("")
            out.append("Classes (this release beside the baseline on the same class)")
            var classes = APITextTable(
                ["class", "status", "devices", "p95 latency", "baseline", "change", "accuracy", "baseline", "agreement", "reason"],
                alignments: [.left, .left, .right, .right, .right, .right, .right, .right, .right, .left])
            for c in r.classes {
                classes.add([
                    c.hardwareClass, c.status, c.release.map { "\($0.devices)" } ?? "0", APIFormat.latency(c.release?.latencyP95Us),
                    APIFormat.latency(c.baseline?.latencyP95Us), APIFormat.change(c.release?.latencyP95Us, from: c.baseline?.latencyP95Us),
                    APIFormat.fixed(c.release?.accuracy, 3), APIFormat.fixed(c.baseline?.accuracy, 3),
                    APIFormat.fixed(c.release?.agreement, 3),
                    c.reason ?? "",
                ])
            }
            out.append(classes.render())
        }
        let evaluated = r.waves.last(where: { $0.classes.contains { !$0.checks.isEmpty } })
        if let wave = evaluated {
            out.append("")
            out.append("Gate checks of wave \(wave.index + 1)")
            var checks = APITextTable(
                ["class", "check", "measured", "baseline", "threshold", "result"],
                alignments: [.left, .left, .right, .right, .right, .left])
            for c in wave.classes {
                for check in c.checks {
                    checks.add([
                        c.hardwareClass, check.metric, number(check.measured), number(check.baseline), number(check.threshold),
                        (check.passed ? "pass" : "FAIL") + (check.detail.map { " — \($0)" } ?? ""),
                    ])
                }
            }
            out.append(checks.render())
        }
        return out.joined(separator: "\n")
    }

    /// `flotilla rollout status` without an id: one line per rollout.
    public static func rolloutList(_ rollouts: [APIRollout]) -> String {
        guard !rollouts.isEmpty else { return "No rollouts." }
        var table = APITextTable(["id", "model", "version", "status", "wave", "target", "started by", "started"])
        for r in rollouts {
            table.add([
                r.id, r.modelName, r.version, r.status, r.waves.isEmpty ? "-" : "\(min(r.currentWave + 1, r.waves.count))/\(r.waves.count)",
                r.target.isEmpty ? "<all>" : r.target, r.createdBy, APIFormat.time(r.createdAtMs),
            ])
        }
        return table.render()
    }

    /// The dry-run answer.
    public static func rolloutPlan(_ plan: APIRolloutPlan) -> String {
        var out = [
            "Dry run: \(plan.modelName) \(plan.version) to '\(plan.target.isEmpty ? "<all devices>" : plan.target)' (nothing was started)"
        ]
        var table = APITextTable(
            ["wave", "share", "class", "new devices", "device ids"], alignments: [.right, .right, .left, .right, .left])
        for wave in plan.waves {
            for (i, c) in wave.classes.enumerated() {
                let ids =
                    c.deviceIDs.prefix(8).joined(separator: ", ") + (c.deviceIDs.count > 8 ? ", … (\(c.deviceIDs.count - 8) more)" : "")
                table.add([
                    i == 0 ? "\(wave.index + 1)" : "", i == 0 ? APIFormat.percent(wave.fraction) : "", c.hardwareClass,
                    "\(c.deviceIDs.count)", ids,
                ])
            }
        }
        out.append(table.render())
        return out.joined(separator: "\n")
    }

    static func policyText(_ p: APIRollbackPolicy) -> String {
        switch p {
        case .failingClass: "the failing class"
        case .all: "every class"
        case .none: "nothing"
        }
    }

    static func number(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "-" }
        if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
        return abs(v) >= 100 ? APIFormat.fixed(v, 1) : APIFormat.fixed(v, 3)
    }
}
