import Foundation

/// Aligned plain-text tables for terminal renderings of API answers (the `flotilla` CLI and
/// the demo print these). Numeric columns right-aligned, text left-aligned.
struct APITextTable {
    enum Alignment { case left, right }

    var headers: [String]
    var alignments: [Alignment]
    var rows: [[String]] = []

    init(_ headers: [String], alignments: [Alignment]? = nil) {
        self.headers = headers
        self.alignments = alignments ?? headers.map { _ in .left }
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render(indent: Int = 2) -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.prefix(headers.count).enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        let pad = String(repeating: " ", count: indent)
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for i in 0..<headers.count {
                let cell = i < cells.count ? cells[i] : ""
                let fill = String(repeating: " ", count: widths[i] - cell.count)
                parts.append(i < alignments.count && alignments[i] == .right ? fill + cell : cell + fill)
            }
            var text = pad + parts.joined(separator: "  ")
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
        return ([line(headers), pad + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line))
            .joined(separator: "\n")
    }
}

/// Number and time spellings shared by the renderings.
enum APIFormat {
    static func time(_ ms: Int64?) -> String {
        guard let ms else { return "-" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss'Z'"
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    static func fixed(_ value: Double?, _ digits: Int) -> String {
        guard let value, value.isFinite else { return "-" }
        return String(format: "%.\(digits)f", value)
    }

    /// Microseconds, or milliseconds past 10 ms.
    static func latency(_ us: Double?) -> String {
        guard let us, us.isFinite else { return "-" }
        return us >= 10_000 ? String(format: "%.1f ms", us / 1000) : String(format: "%.0f µs", us)
    }

    static func percent(_ fraction: Double) -> String {
        let p = fraction * 100
        return p == p.rounded() ? String(format: "%.0f%%", p) : String(format: "%.1f%%", p)
    }

    static func duration(_ seconds: Double) -> String {
        if seconds >= 3600, seconds.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(seconds / 3600))h" }
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60))m" }
        return seconds == seconds.rounded() ? "\(Int(seconds))s" : String(format: "%.1fs", seconds)
    }

    static func bytes(_ n: Int?) -> String {
        guard let n else { return "-" }
        if n < 1024 { return "\(n) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(n) / 1024
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return String(format: value >= 100 ? "%.0f %@" : "%.1f %@", value, units[unit])
    }

    /// "+4.2%" relative change of `value` against `baseline`.
    static func change(_ value: Double?, from baseline: Double?) -> String {
        guard let value, let baseline, baseline != 0, value.isFinite, baseline.isFinite else { return "" }
        return String(format: "%+.1f%%", (value - baseline) / baseline * 100)
    }
}
