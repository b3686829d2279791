import Foundation

/// Number formatting shared by the commands' human-readable output.
enum Format {
    /// 1234567 → "1 234 567": thin grouping that reads well in aligned tables.
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(" ") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    /// Bytes with a binary unit: "41.0 KiB", "1.84 MiB".
    static func bytes(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(n) B" }
        return String(format: value >= 100 ? "%.0f %@" : value >= 10 ? "%.1f %@" : "%.2f %@", value, units[unit])
    }

    /// A count with an SI suffix: 88064 → "88.1 K", 56 000 000 → "56.0 M".
    static func si(_ n: Int) -> String {
        let v = Double(n)
        if v >= 1e9 { return String(format: "%.2f G", v / 1e9) }
        if v >= 1e6 { return String(format: "%.2f M", v / 1e6) }
        if v >= 1e3 { return String(format: "%.1f K", v / 1e3) }
        return "\(n)"
    }

    /// Microseconds with a sensible number of digits.
    static func micros(_ us: Double) -> String {
        if us >= 10_000 { return String(format: "%.0f", us) }
        if us >= 100 { return String(format: "%.1f", us) }
        return String(format: "%.2f", us)
    }

    /// A float for previews: short, but not misleading for tiny or huge values.
    static func value(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e5 || a < 1e-3 { return String(format: "%.4g", v) }
        return String(format: "%.5f", v).replacingOccurrences(of: #"0+$"#, with: "", options: .regularExpression)
            .replacingOccurrences(of: #"\.$"#, with: ".0", options: .regularExpression)
    }

    static func percent(_ part: Double, of whole: Double) -> String {
        whole > 0 ? String(format: "%.1f%%", 100 * part / whole) : "-"
    }
}
