/// Einsum's output shape from its equation ("ij,jk->ik", "...ii->...i", implicit "ij,jk").
///
/// Each input term names its axes with letters; "..." stands for the axes the letters leave
/// over, broadcast across inputs. Without "->" the output is the broadcast ellipsis followed by
/// the letters that appear exactly once, in alphabetical order (numpy's rule).
enum Einsum {
    static func outputShape(_ ctx: inout InferenceContext) throws -> Shape? {
        guard let equation = ctx.node.string("equation") else { throw ctx.badAttribute("equation", "Einsum needs an equation") }
        let text = equation.filter { !$0.isWhitespace }
        let sides = text.split(separator: "->", omittingEmptySubsequences: false).map(String.init)
        guard sides.count <= 2 else { throw ctx.badAttribute("equation", "'\(equation)' has more than one '->'") }
        let terms = sides[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard terms.count == ctx.node.inputs.count else {
            throw ctx.badAttribute("equation", "'\(equation)' has \(terms.count) input terms for \(ctx.node.inputs.count) inputs")
        }
        var letters: [Character: Dimension] = [:]
        var counts: [Character: Int] = [:]
        var ellipsisShapes: [Shape?] = []
        for (i, term) in terms.enumerated() {
            let (labels, hasEllipsis) = try parse(term, equation, ctx)
            for l in labels { counts[l, default: 0] += 1 }
            guard let s = ctx.shape(i) else {
                if hasEllipsis { ellipsisShapes.append(nil) }
                continue
            }
            let named = labels.count
            guard hasEllipsis ? s.rank >= named : s.rank == named else {
                throw ctx.mismatch("term '\(term)' of '\(equation)' does not fit input \(i) of shape \(s)")
            }
            let extra = s.rank - named
            let before = hasEllipsis ? Self.pieces(term)[0].count : named
            if hasEllipsis { ellipsisShapes.append(Shape(Array(s.dims[before..<(before + extra)]))) }
            for (k, l) in labels.enumerated() {
                let d = s[k < before ? k : k + extra]
                if let known = letters[l], case .fixed(let a) = known, case .fixed(let b) = d, a != b, a != 1, b != 1 {
                    throw ctx.mismatch("label '\(l)' of '\(equation)' is \(a) in one input and \(b) in input \(i)")
                }
                if let known = letters[l], known.value != nil && known != .fixed(1) { continue }
                letters[l] = d
            }
        }
        let ellipsis: Shape?
        if ellipsisShapes.isEmpty {
            ellipsis = Shape.scalar
        } else if ellipsisShapes.contains(where: { $0 == nil }) {
            ellipsis = nil
        } else {
            ellipsis = try Broadcasting.shape(ellipsisShapes, &ctx)
        }
        let outputLabels: [Character]
        let outputHasEllipsis: Bool
        if sides.count == 2 {
            (outputLabels, outputHasEllipsis) = try parse(sides[1], equation, ctx)
            for l in outputLabels where letters[l] == nil && counts[l] == nil {
                throw ctx.badAttribute("equation", "output label '\(l)' of '\(equation)' appears in no input")
            }
        } else {
            outputLabels = counts.filter { $0.value == 1 }.keys.sorted()
            outputHasEllipsis = !ellipsisShapes.isEmpty
        }
        if outputHasEllipsis && ellipsis == nil { return nil }
        var dims = outputHasEllipsis ? ellipsis?.dims ?? [] : []
        if sides.count == 2, outputHasEllipsis {
            // The ellipsis sits where the output term writes it.
            let before = Self.pieces(sides[1])[0].count
            dims = []
            for l in outputLabels.prefix(before) { dims.append(letters[l] ?? ctx.unknown()) }
            dims += ellipsis?.dims ?? []
            for l in outputLabels.dropFirst(before) { dims.append(letters[l] ?? ctx.unknown()) }
            return Shape(dims)
        }
        for l in outputLabels { dims.append(letters[l] ?? ctx.unknown()) }
        return Shape(dims)
    }

    /// A term split at its ellipsis: one piece without, two with.
    static func pieces(_ term: String) -> [String] {
        term.split(separator: "...", omittingEmptySubsequences: false).map(String.init)
    }

    /// The letters of one term and whether it holds "...".
    static func parse(_ term: String, _ equation: String, _ ctx: InferenceContext) throws -> ([Character], Bool) {
        let parts = pieces(term)
        guard parts.count <= 2 else { throw ctx.badAttribute("equation", "term '\(term)' of '\(equation)' has more than one '...'") }
        let labels = Array(parts.joined())
        guard labels.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw ctx.badAttribute("equation", "term '\(term)' of '\(equation)' has a character that is not a letter or '...'")
        }
        return (labels, parts.count == 2)
    }
}
