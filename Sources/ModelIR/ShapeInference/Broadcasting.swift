/// Numpy-style multidirectional broadcasting over symbolic shapes.
enum Broadcasting {
    /// The broadcast of `shapes`; nil if any rank is unknown. Fixed sizes that disagree (and
    /// are not 1) throw through `context.mismatch`.
    static func shape(_ shapes: [Shape?], _ context: inout InferenceContext) throws -> Shape? {
        var result: [Dimension] = []
        for s in shapes {
            guard let s else { return nil }
            result = try pair(result, s.dims, shapes, &context)
        }
        return Shape(result)
    }

    private static func pair(
        _ a: [Dimension], _ b: [Dimension], _ all: [Shape?], _ context: inout InferenceContext
    ) throws -> [Dimension] {
        let rank = max(a.count, b.count)
        var out: [Dimension] = []
        for i in 0..<rank {
            let da = i < rank - a.count ? Dimension.fixed(1) : a[i - (rank - a.count)]
            let db = i < rank - b.count ? Dimension.fixed(1) : b[i - (rank - b.count)]
            out.append(try merge(da, db, context: &context, all: all))
        }
        return out
    }

    static func merge(_ a: Dimension, _ b: Dimension, context: inout InferenceContext, all: [Shape?]) throws -> Dimension {
        switch (a, b) {
        case (.fixed(1), _): return b
        case (_, .fixed(1)): return a
        case (.fixed(let x), .fixed(let y)):
            if x == y { return a }
            throw context.mismatch(
                "cannot broadcast shapes \(all.map { $0?.description ?? "[?]" }.joined(separator: " and ")): \(x) vs \(y)")
        // A symbol against a size > 1 must equal it for the model to be valid.
        case (.symbolic, .fixed): return b
        case (.fixed, .symbolic): return a
        case (.symbolic(let x), .symbolic(let y)):
            if x == y { return a }
            if a.isInferredUnknown { return b }
            if b.isInferredUnknown { return a }
            return context.unknown()
        }
    }
}

/// Symbolic evaluation of the small int64 shape vectors exporters compute, so symbols survive
/// Shape → Gather → Concat → Reshape chains.
enum ShapeValuePropagation {
    static func evaluate(node: Node, context: InferenceContext) -> [Dimension]? {
        guard node.domain.isEmpty else { return nil }
        switch node.opType {
        case "Shape":
            guard let dims = context.shape(0)?.dims else { return nil }
            let r = dims.count
            let start = clampAxis(node.int("start") ?? 0, r)
            let end = clampAxis(node.int("end") ?? r, r)
            return start < end ? Array(dims[start..<end]) : []
        case "Identity", "Cast":
            return context.shapeValue(0)
        case "Concat":
            var out: [Dimension] = []
            for i in node.inputs.indices {
                guard let v = context.shapeValue(i) else { return nil }
                out += v
            }
            return out
        case "Unsqueeze", "Squeeze":
            // Scalars ↔ 1-element vectors: the values are unchanged.
            return context.shapeValue(0)
        case "Gather":
            guard let data = context.shapeValue(0), let idx = context.constantInts(1) else { return nil }
            var out: [Dimension] = []
            for i in idx {
                let j = i < 0 ? i + data.count : i
                guard data.indices.contains(j) else { return nil }
                out.append(data[j])
            }
            return out
        case "Slice":
            guard let data = context.shapeValue(0), let starts = context.constantInts(1),
                let ends = context.constantInts(2), starts.count == 1, ends.count == 1
            else { return nil }
            let step = context.constantInts(4)?.first ?? 1
            guard step == 1 else { return nil }
            let n = data.count
            let s = clampAxis(starts[0], n)
            let e = clampAxis(ends[0], n)
            return s < e ? Array(data[s..<e]) : []
        case "Add", "Sub", "Mul", "Div":
            return arithmetic(node.opType, context)
        default:
            return nil
        }
    }

    /// Integer arithmetic on shape vectors (C / G for a group size, H × W for a flattened
    /// size), elementwise with a 1-element operand broadcast. Fixed values are computed exactly
    /// (Div truncates, as ONNX integer division does); a symbol survives only the identities
    /// x + 0, x - 0, x × 1, x ÷ 1. Float vectors (a Cast shape) are left alone.
    static func arithmetic(_ op: String, _ context: InferenceContext) -> [Dimension]? {
        guard let et = context.elementType(0), et == .int64 || et == .int32,
            let a = context.shapeValue(0), let b = context.shapeValue(1), !a.isEmpty, !b.isEmpty,
            a.count == b.count || a.count == 1 || b.count == 1
        else { return nil }
        var out: [Dimension] = []
        for i in 0..<max(a.count, b.count) {
            let x = a[a.count == 1 ? 0 : i], y = b[b.count == 1 ? 0 : i]
            switch (x, y) {
            case (.fixed(let p), .fixed(let q)):
                let r: (Int, Bool)
                switch op {
                case "Add": r = p.addingReportingOverflow(q)
                case "Sub": r = p.subtractingReportingOverflow(q)
                case "Mul": r = p.multipliedReportingOverflow(by: q)
                default:
                    guard q != 0 else { return nil }
                    r = p.dividedReportingOverflow(by: q)
                }
                guard !r.1 else { return nil }
                out.append(.fixed(r.0))
            case (.symbolic, .fixed(let q)) where (q == 0 && (op == "Add" || op == "Sub")) || (q == 1 && (op == "Mul" || op == "Div")):
                out.append(x)
            case (.fixed(let p), .symbolic) where (p == 0 && op == "Add") || (p == 1 && op == "Mul"):
                out.append(y)
            default:
                return nil
            }
        }
        return out
    }

    /// ONNX's start/end clamping for Shape and Slice: negative counts from the end, then clamp
    /// into [0, n].
    static func clampAxis(_ v: Int, _ n: Int) -> Int {
        let x = v < 0 ? v + n : v
        return min(max(x, 0), n)
    }
}
