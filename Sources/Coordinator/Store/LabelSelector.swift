/// A Kubernetes-style label selector over devices: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
/// `k notin (a,b)`, `k`, `!k`, comma-separated requirements that must all hold; the empty
/// selector matches every device. The pseudo-labels `id` and `class` match a device's id and
/// hardware class, so `class=x86-avx2,site in (lab,field)` needs no extra labels.
///
/// Semantics follow Kubernetes: `k!=v` and `k notin (...)` also match devices without `k`.
public struct LabelSelector: Sendable, Equatable, CustomStringConvertible {
    public static let idKey = "id"
    public static let classKey = "class"

    public enum Requirement: Sendable, Equatable, CustomStringConvertible {
        case equals(key: String, value: String)
        case notEquals(key: String, value: String)
        case `in`(key: String, values: Set<String>)
        case notIn(key: String, values: Set<String>)
        case exists(key: String)
        case doesNotExist(key: String)

        public func matches(_ value: String?) -> Bool {
            switch self {
            case .equals(_, let expected): value == expected
            case .notEquals(_, let excluded): value != excluded
            case .in(_, let values): value.map(values.contains) ?? false
            case .notIn(_, let values): !(value.map(values.contains) ?? false)
            case .exists: value != nil
            case .doesNotExist: value == nil
            }
        }

        public var key: String {
            switch self {
            case .equals(let key, _), .notEquals(let key, _), .in(let key, _), .notIn(let key, _), .exists(let key),
                .doesNotExist(let key):
                key
            }
        }

        public var description: String {
            switch self {
            case .equals(let key, let value): "\(key)=\(value)"
            case .notEquals(let key, let value): "\(key)!=\(value)"
            case .in(let key, let values): "\(key) in (\(values.sorted().joined(separator: ",")))"
            case .notIn(let key, let values): "\(key) notin (\(values.sorted().joined(separator: ",")))"
            case .exists(let key): key
            case .doesNotExist(let key): "!\(key)"
            }
        }
    }

    /// All must hold; empty matches everything.
    public var requirements: [Requirement]

    public init(requirements: [Requirement] = []) {
        self.requirements = requirements
    }

    /// Matches every device.
    public static let everything = LabelSelector()

    /// `value(key)` returns the label's value, or nil when the object has no such label.
    public func matches(_ value: (String) -> String?) -> Bool {
        requirements.allSatisfy { $0.matches(value($0.key)) }
    }

    public func matches(_ device: DeviceRecord) -> Bool {
        matches { device.labelValue($0) }
    }

    /// The canonical text (parses back to an equal selector).
    public var description: String {
        requirements.map(\.description).joined(separator: ",")
    }
}

/// A selector or label that does not parse: names the offending term and what would be valid.
public struct LabelSelectorError: Error, Sendable, Equatable, CustomStringConvertible {
    public var term: String
    public var detail: String

    public init(term: String, detail: String) {
        self.term = term
        self.detail = detail
    }

    public var description: String { "label selector: '\(term)': \(detail)" }
}
