import FleetProtocol

/// The fleet at one instant, as the simulator sees its own agents: how many devices of each
/// class run which release in which phase, how many are online, downloading, rolled back.
/// Written as a table for people and as JSON for scripts (`--json-status`).
public struct FleetSummary: Codable, Sendable, Equatable {
    public struct Cell: Codable, Sendable, Equatable, Hashable {
        public var hardwareClass: String
        /// The running model's version ("-" when none runs).
        public var release: String
        /// The update phase (idle, downloading, validating, committed, rollingBack, failed, ...).
        public var phase: String
        public var devices: Int
    }

    public struct ClassTotals: Codable, Sendable, Equatable {
        public var hardwareClass: String
        public var devices: Int
        public var online: Int
        public var downloading: Int
        public var rollbacks: Int
    }

    public var elapsedSeconds: Double
    public var devices: Int
    /// Devices started so far (the fleet connects at a bounded rate).
    public var started: Int
    public var online: Int
    public var downloadsInFlight: Int
    /// Devices whose last rollback is known, counted once per (device, rolled-back release).
    public var rollbacks: Int
    /// Rollbacks by reason code (validationFailed, crashLoop, loadFailed, ...).
    public var rollbackReasons: [String: Int]
    public var droppedConnections: Int
    /// Agents killed mid-download by the killMidDownload fault.
    public var kills: Int
    /// Of those, the restarts that resumed the download from the persisted bitmap.
    public var resumedDownloads: Int
    /// Each kill: where the download stood, what the new agent resumed from, the phase now.
    public var killedDownloads: [KilledDownload]
    public var cells: [Cell]
    public var classes: [ClassTotals]

    /// One line: for logs and non-terminal output.
    public var line: String {
        var parts = [
            "t=\(Int(elapsedSeconds))s", "online \(online)/\(devices)", "started \(started)", "downloading \(downloadsInFlight)",
            "rollbacks \(rollbacks)",
        ]
        if droppedConnections > 0 { parts.append("drops \(droppedConnections)") }
        if kills > 0 { parts.append("kills \(kills) resumed \(resumedDownloads)") }
        var byClass: [String: [String]] = [:]
        for c in cells { byClass[c.hardwareClass, default: []].append("\(c.release)/\(c.phase)=\(c.devices)") }
        for t in classes { parts.append("\(t.hardwareClass): " + (byClass[t.hardwareClass] ?? []).joined(separator: " ")) }
        return parts.joined(separator: " | ")
    }

    /// A table: one row per class, one column per (release, phase) seen, then totals.
    public var table: String {
        let columns = Array(Set(cells.map { "\($0.release) \($0.phase)" })).sorted()
        var rows: [[String]] = [["class"] + columns + ["online", "downloading", "rollbacks"]]
        for t in classes {
            var row = [t.hardwareClass]
            for column in columns {
                let n = cells.first { "\($0.release) \($0.phase)" == column && $0.hardwareClass == t.hardwareClass }?.devices ?? 0
                row.append(n == 0 ? "." : String(n))
            }
            row += ["\(t.online)/\(t.devices)", String(t.downloading), String(t.rollbacks)]
            rows.append(row)
        }
        rows.append(
            ["all"] + columns.map { c in String(cells.filter { "\($0.release) \($0.phase)" == c }.reduce(0) { $0 + $1.devices }) }
                + ["\(online)/\(devices)", String(downloadsInFlight), String(rollbacks)])
        let widths = rows[0].indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        var out = "fleet simulator, t=\(Int(elapsedSeconds))s, \(started)/\(devices) devices started"
        if droppedConnections > 0 { out += ", \(droppedConnections) connections dropped by faults" }
        out += "\n"
        for (r, row) in rows.enumerated() {
            out += row.enumerated().map { i, s in i == 0 ? s.padding(widths[i]) : s.leftPadding(widths[i]) }.joined(separator: "  ")
            out += "\n"
            if r == 0 || r == rows.count - 2 { out += widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n" }
        }
        if !rollbackReasons.isEmpty {
            out +=
                "rollbacks by reason: " + rollbackReasons.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            out += "\n"
        }
        if kills > 0 {
            out += "killed mid-download: \(kills), resumed from their checkpoint: \(resumedDownloads)\n"
            // The latest few: a thousand lines would bury the table.
            for k in killedDownloads.suffix(8) { out += "  \(k.line)\n" }
        }
        return out
    }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
    func leftPadding(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
