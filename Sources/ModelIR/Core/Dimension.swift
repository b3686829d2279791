/// One dimension of a shape: a fixed size, or a named symbol such as the batch size "N".
///
/// Shape inference names dimensions it cannot compute (data-dependent sizes) with symbols that
/// start with `?` (see `Dimension.isInferredUnknown`); user-facing symbols come from the model's
/// inputs and can be bound to numbers with `Graph.bindShapes`.
public enum Dimension: Sendable, Hashable, CustomStringConvertible {
    case fixed(Int)
    case symbolic(String)

    public var value: Int? {
        if case .fixed(let v) = self { return v }
        return nil
    }

    public var symbol: String? {
        if case .symbolic(let s) = self { return s }
        return nil
    }

    /// True for the symbols shape inference invents for data-dependent sizes.
    public var isInferredUnknown: Bool { symbol?.hasPrefix("?") ?? false }

    public var description: String {
        switch self {
        case .fixed(let v): return String(v)
        case .symbolic(let s): return s
        }
    }
}

extension Dimension: ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    public init(integerLiteral value: Int) { self = .fixed(value) }
    public init(stringLiteral value: String) { self = .symbolic(value) }
}
