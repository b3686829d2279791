extension APIText {
    /// `flotilla devices`.
    public static func devices(_ devices: [APIDevice]) -> String {
        guard !devices.isEmpty else { return "No devices match." }
        var table = APITextTable(["id", "class", "online", "running", "state", "labels", "last seen"])
        for d in devices.sorted(by: { ($0.hardwareClass, $0.id) < ($1.hardwareClass, $1.id) }) {
            let running = d.running.map { "\($0.modelName) \($0.modelVersion)" } ?? "-"
            let labels = d.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            table.add([
                d.id, d.hardwareClass, d.online ? "yes" : "no", running, d.running?.status ?? d.phase ?? "-", labels.isEmpty ? "-" : labels,
                APIFormat.time(d.lastSeenMs),
            ])
        }
        var summary: [String: Int] = [:]
        for d in devices { summary[d.hardwareClass, default: 0] += 1 }
        let perClass = summary.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return table.render() + "\n\n  \(devices.count) devices (\(perClass)), \(devices.filter(\.online).count) online"
    }

    /// `flotilla model list`.
    public static func releases(_ releases: [APIRelease]) -> String {
        guard !releases.isEmpty else { return "No models yet: add one with 'flotilla model add'." }
        var table = APITextTable(
            ["model", "version", "release", "status", "classes", "budget", "created by", "created"],
            alignments: [.left, .left, .right, .left, .left, .right, .left, .left])
        for r in releases {
            table.add([
                r.name, r.version, "\(r.releaseSequence)", r.status.rawValue, r.classes.joined(separator: ","),
                APIFormat.fixed(r.budget, 2) + " pp", r.createdBy, APIFormat.time(r.createdAtMs),
            ])
        }
        return table.render()
    }

    /// `flotilla model show N V`: the release, its variants, and each variant's report.
    public static func release(_ r: APIRelease) -> String {
        var out = ["\(r.name) \(r.version) (release \(r.releaseSequence)) — \(r.status.rawValue)"]
        if let error = r.error { out.append("  error: \(error)") }
        out.append("  source sha256 \(r.sourceSHA256)")
        out.append(
            "  budget \(APIFormat.fixed(r.budget, 2)) pp top-1"
                + (r.minAgreement.map { ", agreement ≥ \(APIFormat.fixed($0, 3))" } ?? "")
                + "; created by \(r.createdBy) at \(APIFormat.time(r.createdAtMs))")
        out.append("")
        var table = APITextTable(
            ["class", "status", "digest", "size", "compressed", "fp32 acc", "int8 acc", "agreement"],
            alignments: [.left, .left, .left, .right, .right, .right, .right, .right])
        for v in r.variants {
            table.add([
                v.hardwareClass, v.status.rawValue, v.artifactDigest.map { String($0.prefix(16)) } ?? "-",
                APIFormat.bytes(v.uncompressedSize),
                APIFormat.bytes(v.compressedSize), APIFormat.fixed(v.metrics["fp32Accuracy"], 4),
                APIFormat.fixed(v.metrics["int8Accuracy"], 4),
                APIFormat.fixed(v.metrics["agreement"], 4),
            ])
        }
        out.append(table.render())
        for v in r.variants {
            if let error = v.error { out += ["", "\(v.hardwareClass): \(error)"] }
            if let report = v.report, !report.isEmpty {
                out += ["", "Quantization report — \(v.hardwareClass)", report]
            }
        }
        return out.joined(separator: "\n")
    }

    /// `flotilla telemetry`: one row per release × class.
    public static func telemetry(_ report: APITelemetryReport) -> String {
        guard !report.series.isEmpty else { return "No telemetry in the window." }
        var table = APITextTable(
            ["model", "version", "class", "devices", "inferences", "errors", "p50", "p95", "p99", "accuracy", "agreement"],
            alignments: [.left, .left, .left, .right, .right, .right, .right, .right, .right, .right, .right])
        for s in report.series.sorted(by: { ($0.modelName, $0.version, $0.hardwareClass) < ($1.modelName, $1.version, $1.hardwareClass) }) {
            let m = s.totals
            table.add([
                s.modelName, s.version, s.hardwareClass, "\(m.devices)", "\(m.inferences)", "\(m.errors)",
                APIFormat.latency(m.latencyP50Us),
                APIFormat.latency(m.latencyP95Us), APIFormat.latency(m.latencyP99Us), APIFormat.fixed(m.accuracy, 3),
                APIFormat.fixed(m.agreement, 3),
            ])
        }
        return table.render()
    }

    /// `flotilla audit`.
    public static func audit(_ entries: [APIAuditEntry]) -> String {
        guard !entries.isEmpty else { return "The audit log is empty." }
        var table = APITextTable(["time", "actor", "action", "target", "detail"])
        for e in entries { table.add([APIFormat.time(e.atMs), e.actor, e.action, e.target, e.detail ?? ""]) }
        return table.render()
    }
}
