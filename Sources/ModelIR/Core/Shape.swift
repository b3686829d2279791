/// The dimensions of a tensor type, outermost first. An empty shape is a scalar.
public struct Shape: Sendable, Hashable, CustomStringConvertible, ExpressibleByArrayLiteral {
    public var dims: [Dimension]

    public init(_ dims: [Dimension]) { self.dims = dims }
    public init(_ fixed: [Int]) { self.dims = fixed.map(Dimension.fixed) }
    public init(arrayLiteral elements: Dimension...) { self.dims = elements }

    public static let scalar = Shape([Dimension]())

    public var rank: Int { dims.count }
    public subscript(i: Int) -> Dimension {
        get { dims[i] }
        set { dims[i] = newValue }
    }

    /// All dimensions as numbers, or `nil` if any is symbolic.
    public var concrete: [Int]? {
        var out: [Int] = []
        out.reserveCapacity(dims.count)
        for d in dims {
            guard case .fixed(let v) = d else { return nil }
            out.append(v)
        }
        return out
    }

    public var isConcrete: Bool { concrete != nil }

    /// The element count when every dimension is fixed and the product does not overflow.
    public var elementCount: Int? { concrete.flatMap(Shape.checkedProduct) }

    /// The symbols used by this shape, in order of first appearance.
    public var symbols: [String] {
        var seen: Set<String> = []
        return dims.compactMap { d in d.symbol.flatMap { seen.insert($0).inserted ? $0 : nil } }
    }

    /// Normalizes a possibly negative axis (`-1` = last) against `rank`; `nil` if out of range.
    public static func normalize(axis: Int, rank: Int) -> Int? {
        let a = axis < 0 ? axis + rank : axis
        return (0..<max(rank, 0)).contains(a) ? a : nil
    }

    /// Product of `values`, `nil` on overflow or on a negative value.
    public static func checkedProduct(_ values: [Int]) -> Int? {
        var p = 1
        for v in values {
            guard v >= 0 else { return nil }
            let (r, o) = p.multipliedReportingOverflow(by: v)
            if o { return nil }
            p = r
        }
        return p
    }

    /// Replaces symbols found in `bindings`; others stay symbolic.
    public func substituting(_ bindings: [String: Int]) -> Shape {
        Shape(
            dims.map { d in
                if case .symbolic(let s) = d, let v = bindings[s] { return .fixed(v) }
                return d
            })
    }

    public var description: String { "[" + dims.map(\.description).joined(separator: ", ") + "]" }
}
