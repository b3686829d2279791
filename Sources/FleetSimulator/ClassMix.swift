/// How many simulated devices of each hardware class: parsed from `class:weight,...` and
/// spread over the device count by largest remainder, so `a:20,b:20,c:20` with 60 devices
/// gives exactly 20 each and with 100 devices 34/33/33.
public struct ClassMix: Sendable, Equatable, CustomStringConvertible {
    public var weights: [(name: String, weight: Double)]

    public init(_ weights: [(name: String, weight: Double)]) { self.weights = weights }

    public static func == (a: ClassMix, b: ClassMix) -> Bool {
        a.weights.map(\.name) == b.weights.map(\.name) && a.weights.map(\.weight) == b.weights.map(\.weight)
    }

    public var description: String {
        weights.map { "\($0.name):\($0.weight.formatted)" }.joined(separator: ",")
    }

    /// `x86_64-avx2:20,arm64-dotprod:20` (a class without a weight counts 1).
    public static func parse(_ text: String) throws(SimulatorError) -> ClassMix {
        var weights: [(name: String, weight: Double)] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: true) {
            let pieces = part.split(separator: ":", maxSplits: 1).map { String($0).trimmed }
            let name = pieces[0]
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw .invalidOption(
                    option: "--classes", value: text, detail: "'\(name)' is not a hardware class name (letters, digits, - _ .)")
            }
            var weight = 1.0
            if pieces.count == 2 {
                guard let w = Double(pieces[1]), w > 0, w.isFinite else {
                    throw .invalidOption(option: "--classes", value: text, detail: "the weight of \(name) must be a positive number")
                }
                weight = w
            }
            if weights.contains(where: { $0.name == name }) {
                throw .invalidOption(option: "--classes", value: text, detail: "\(name) is listed twice")
            }
            weights.append((name, weight))
        }
        guard !weights.isEmpty else {
            throw .invalidOption(option: "--classes", value: text, detail: "name at least one class, e.g. x86_64-avx2:20,arm64-dotprod:20")
        }
        return ClassMix(weights)
    }

    /// The class of each of `count` devices, in blocks in the mix's order.
    public func assign(count: Int) -> [String] {
        guard count > 0 else { return [] }
        let total = weights.reduce(0) { $0 + $1.weight }
        let exact = weights.map { Double(count) * $0.weight / total }
        var counts = exact.map { Int($0.rounded(.down)) }
        let order = exact.indices.sorted { (exact[$0] - Double(counts[$0]), -$0) > (exact[$1] - Double(counts[$1]), -$1) }
        var left = count - counts.reduce(0, +)
        for i in order where left > 0 {
            counts[i] += 1
            left -= 1
        }
        return zip(weights, counts).flatMap { Array(repeating: $0.name, count: $1) }
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return String(s)
    }
}

extension Double {
    /// 20 rather than 20.0; 0.5 stays 0.5.
    var formatted: String { self == rounded() && abs(self) < 1e15 ? String(Int(self)) : String(self) }
}
