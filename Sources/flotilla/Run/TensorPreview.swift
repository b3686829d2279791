import ModelIR

/// A few lines describing an output tensor: its first values and, for a 2-D output (a batch
/// of scores), the argmax of each row — what a user checks first on a classifier.
enum TensorPreview {
    static let maxValues = 8
    static let maxRows = 16

    static func lines(name: String, tensor: Tensor) -> [String] {
        var out = ["\(name): \(tensor.elementType)\(tensor.shape)"]
        guard let values = tensor.asDoubles else {
            if tensor.elementType == .string { out.append("  first values: " + tensor.strings.prefix(maxValues).joined(separator: ", ")) }
            return out
        }
        let integral = tensor.elementType.isInteger || tensor.elementType == .bool
        let head = (integral ? (tensor.asInt64s ?? []).prefix(maxValues).map(String.init) : values.prefix(maxValues).map(Format.value))
            .joined(separator: ", ")
        out.append("  first values: \(head)\(values.count > maxValues ? ", … (\(values.count) values)" : "")")
        if tensor.shape.count == 2, let argmax = argmaxPerRow(values, rows: tensor.shape[0], columns: tensor.shape[1]) {
            let shown = argmax.prefix(maxRows).map(String.init).joined(separator: " ")
            let more = argmax.count > maxRows ? " … (first \(maxRows) of \(argmax.count) rows)" : ""
            out.append("  argmax per row: \(shown)\(more)")
        }
        return out
    }

    /// Index of the largest value of each row (the first on ties, as numpy); nil for empty rows.
    static func argmaxPerRow(_ values: [Double], rows: Int, columns: Int) -> [Int]? {
        guard columns > 0, rows >= 0, rows * columns == values.count else { return nil }
        return (0..<rows).map { r in
            var best = 0
            for c in 1..<max(columns, 1) where values[r * columns + c] > values[r * columns + best] { best = c }
            return best
        }
    }
}
