/// The text format's lexical rules (prometheus/docs `exposition_formats.md`).
extension PrometheusExposition {
    static func validateMetricName(_ name: String) throws(PrometheusError) {
        guard let first = name.utf8.first, isNameStart(first, colon: true), name.utf8.allSatisfy({ isNameChar($0, colon: true) }) else {
            throw .invalidMetricName(name)
        }
    }

    static func validateLabelName(_ name: String, metric: String) throws(PrometheusError) {
        guard let first = name.utf8.first, isNameStart(first, colon: false), name.utf8.allSatisfy({ isNameChar($0, colon: false) })
        else {
            throw .invalidLabel(metric: metric, label: "'\(name)'", detail: "is not a valid label name: use [a-zA-Z_][a-zA-Z0-9_]*")
        }
        guard !name.hasPrefix("__") else {
            throw .invalidLabel(metric: metric, label: "'\(name)'", detail: "starts with '__', which Prometheus reserves")
        }
    }

    private static func isNameStart(_ b: UInt8, colon: Bool) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || b == UInt8(ascii: "_")
            || (colon && b == UInt8(ascii: ":"))
    }

    private static func isNameChar(_ b: UInt8, colon: Bool) -> Bool {
        isNameStart(b, colon: colon) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
    }

    /// HELP text: backslash and line feed are escaped (`\\`, `\n`).
    static func escapeHelp(_ text: String) -> String {
        var out = ""
        for ch in text.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// Label values: backslash, double quote and line feed are escaped (`\\`, `\"`, `\n`).
    static func escapeLabelValue(_ text: String) -> String {
        var out = ""
        for ch in text.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// `{a="1",b="2"}` with labels sorted by name and `extra` (a summary's quantile) last;
    /// empty when there is no label.
    static func labelText(_ labels: [String: String], extra: (String, String)?) -> String {
        var pairs = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(escapeLabelValue($0.value))\"" }
        if let extra { pairs.append("\(extra.0)=\"\(escapeLabelValue(extra.1))\"") }
        return pairs.isEmpty ? "" : "{" + pairs.joined(separator: ",") + "}"
    }

    /// Integers print without a fraction (what client libraries emit for counts), the
    /// specials as `+Inf`, `-Inf`, `NaN`, anything else in Swift's shortest round-trip form
    /// (which Go's ParseFloat reads back exactly).
    static func formatValue(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v == .infinity { return "+Inf" }
        if v == -.infinity { return "-Inf" }
        if v == v.rounded(), abs(v) < 9_007_199_254_740_992 { return String(Int64(v)) }
        return "\(v)"
    }
}
