/// A plain-text table with aligned columns, for the human-readable output of the commands.
/// Numeric columns are right-aligned so digits line up; text columns are left-aligned.
struct TextTable {
    enum Alignment { case left, right }

    var headers: [String]
    var alignments: [Alignment]
    var rows: [[String]] = []

    init(_ headers: [String], alignments: [Alignment]? = nil) {
        self.headers = headers
        self.alignments = alignments ?? headers.map { _ in .left }
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    /// The table with a header underline and `indent` spaces before every line.
    func render(indent: Int = 2) -> String {
        let columns = headers.count
        var widths = headers.map(\.count)
        for row in rows {
            for (i, cell) in row.prefix(columns).enumerated() { widths[i] = max(widths[i], cell.count) }
        }
        let pad = String(repeating: " ", count: indent)
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for i in 0..<columns {
                let cell = i < cells.count ? cells[i] : ""
                let fill = String(repeating: " ", count: widths[i] - cell.count)
                let alignment = i < alignments.count ? alignments[i] : .left
                parts.append(alignment == .right ? fill + cell : cell + fill)
            }
            // Trailing spaces of a left-aligned last column are noise in copied output.
            var text = pad + parts.joined(separator: "  ")
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
        var out = [line(headers), pad + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        out += rows.map(line)
        return out.joined(separator: "\n")
    }
}
