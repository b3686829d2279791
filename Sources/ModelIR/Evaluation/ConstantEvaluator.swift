/// Computes a node's outputs from constant inputs, for constant folding.
///
/// `inputs` has one entry per node input, `nil` for an omitted optional input (so positions
/// stay meaningful: Slice's steps after an omitted axes). Return `nil` for an op the evaluator
/// does not implement; throw only when the op is implemented and the inputs are invalid.
///
/// ModelIR ships `BuiltinConstantEvaluator` for the shape-computation ops exporters emit; the
/// Runtime provides a full one.
public protocol ConstantEvaluator: Sendable {
    func evaluate(_ node: Node, inputs: [Tensor?]) throws -> [Tensor]?
}

/// Evaluates the ops exporters use to compute shapes (Shape, Gather, Concat, Unsqueeze,
/// Squeeze, Slice, Cast, Add/Sub/Mul/Div, ConstantOfShape, Range, Reshape, Identity,
/// Constant, Flatten, Size), on any element type where the op only moves bytes.
public struct BuiltinConstantEvaluator: ConstantEvaluator {
    /// Largest result (elements) it will materialize; larger folds are declined (nil) so a
    /// ConstantOfShape of a huge shape cannot exhaust memory.
    public var maxElements: Int

    public init(maxElements: Int = 1 << 22) { self.maxElements = maxElements }

    public func evaluate(_ node: Node, inputs: [Tensor?]) throws -> [Tensor]? {
        guard node.domain.isEmpty, node.fusedActivation == nil else { return nil }
        func input(_ i: Int) throws -> Tensor {
            guard i < inputs.count, let t = inputs[i] else {
                throw ModelIRError.evaluationFailed(node: node.name, detail: "input \(i) is missing")
            }
            return t
        }
        func fail(_ detail: String) -> ModelIRError { .evaluationFailed(node: node.name, detail: detail) }
        switch node.opType {
        case "Identity":
            return [try input(0)]
        case "Constant":
            guard let t = node.tensor("value") else { return nil }
            return [t]
        case "Shape":
            let s = try input(0).shape
            let start = ShapeValuePropagation.clampAxis(node.int("start") ?? 0, s.count)
            let end = ShapeValuePropagation.clampAxis(node.int("end") ?? s.count, s.count)
            return [Tensor.vector(start < end ? s[start..<end].map(Int64.init) : [])]
        case "Size":
            return [Tensor.scalar(Int64(try input(0).elementCount))]
        case "Reshape":
            let x = try input(0)
            guard let target = try input(1).asInt64s else { throw fail("shape must be an integer tensor") }
            return [
                try x.reshaped(try Self.reshapeTarget(x.shape, target.map(Int.init), allowZero: (node.int("allowzero") ?? 0) != 0, fail))
            ]
        case "Flatten":
            let x = try input(0)
            let axis = node.int("axis") ?? 1
            let a = axis < 0 ? axis + x.rank : axis
            guard (0...x.rank).contains(a) else { throw fail("axis \(axis) is out of range for rank \(x.rank)") }
            return [try x.reshaped([Shape.checkedProduct(Array(x.shape[..<a])) ?? 0, Shape.checkedProduct(Array(x.shape[a...])) ?? 0])]
        case "Unsqueeze":
            let x = try input(0)
            guard let axes = try input(1).asInt64s?.map(Int.init) else { throw fail("axes must be integers") }
            let rank = x.rank + axes.count
            let norm = Set(axes.compactMap { Shape.normalize(axis: $0, rank: rank) })
            guard norm.count == axes.count else { throw fail("axes \(axes) are out of range or repeated for output rank \(rank)") }
            var it = x.shape.makeIterator()
            return [try x.reshaped((0..<rank).map { norm.contains($0) ? 1 : it.next() ?? 1 })]
        case "Squeeze":
            let x = try input(0)
            var keep: [Int]
            if let axesTensor = inputs.count > 1 ? inputs[1] : nil {
                guard let axes = axesTensor.asInt64s?.map(Int.init) else { throw fail("axes must be integers") }
                let norm = Set(axes.compactMap { Shape.normalize(axis: $0, rank: x.rank) })
                guard norm.count == axes.count, norm.allSatisfy({ x.shape[$0] == 1 }) else {
                    throw fail("cannot squeeze axes \(axes) of shape \(x.shape)")
                }
                keep = x.shape.enumerated().filter { !norm.contains($0.offset) }.map(\.element)
            } else {
                keep = x.shape.filter { $0 != 1 }
            }
            return [try x.reshaped(keep)]
        case "Concat":
            let parts = try inputs.indices.map { try input($0) }
            return [try Self.concat(parts, axis: node.int("axis") ?? 0, fail)]
        case "Gather":
            return [try Self.gather(try input(0), indices: try input(1), axis: node.int("axis") ?? 0, fail)]
        case "Slice":
            let x = try input(0)
            guard let starts = try input(1).asInt64s, let ends = try input(2).asInt64s else { throw fail("starts/ends must be integers") }
            let axes = inputs.count > 3 ? inputs[3]?.asInt64s : nil
            let steps = inputs.count > 4 ? inputs[4]?.asInt64s : nil
            return [
                try Self.slice(
                    x, starts: starts.map { Int(clamping: $0) }, ends: ends.map { Int(clamping: $0) },
                    axes: axes?.map { Int(clamping: $0) }, steps: steps?.map { Int(clamping: $0) }, fail)
            ]
        case "Cast":
            guard let name = node.string("to"), let to = ElementType(rawValue: name) else { throw fail("Cast needs a 'to' element type") }
            return try Self.cast(try input(0), to: to).map { [$0] }
        case "Add", "Sub", "Mul", "Div":
            return try Self.arithmetic(node.opType, try input(0), try input(1), maxElements: maxElements, fail).map { [$0] }
        case "ConstantOfShape":
            guard let dims = try input(0).asInt64s?.map(Int.init), dims.allSatisfy({ $0 >= 0 }) else {
                throw fail("the shape input must hold non-negative integers")
            }
            guard let count = Shape.checkedProduct(dims), count <= maxElements else { return nil }
            let value = node.tensor("value") ?? Tensor.scalar(Float(0))
            guard value.elementCount == 1, value.elementType != .string else { throw fail("'value' must hold one element") }
            let one = value.bytes
            var bytes: [UInt8] = []
            bytes.reserveCapacity(count * one.count)
            for _ in 0..<count { bytes += one }
            return [try Tensor(elementType: value.elementType, shape: dims, bytes: bytes)]
        case "Range":
            return try Self.range(try input(0), try input(1), try input(2), maxElements: maxElements, fail).map { [$0] }
        default:
            return nil
        }
    }

    /// Resolves 0 (copy) and -1 (infer) in a Reshape target.
    static func reshapeTarget(_ input: [Int], _ target: [Int], allowZero: Bool, _ fail: (String) -> ModelIRError) throws -> [Int] {
        var out = target
        var infer: Int?
        for (i, d) in target.enumerated() {
            if d == 0 && !allowZero {
                guard i < input.count else {
                    throw fail("shape \(target) copies dimension \(i) of \(input), which has rank \(input.count)")
                }
                out[i] = input[i]
            } else if d == -1 {
                guard infer == nil else { throw fail("shape \(target) has more than one -1") }
                infer = i
            } else if d < 0 {
                throw fail("shape \(target) has the invalid size \(d)")
            }
        }
        guard let total = Shape.checkedProduct(input) else { throw fail("input shape \(input) overflows") }
        if let infer {
            let known = Shape.checkedProduct(out.enumerated().filter { $0.offset != infer }.map(\.element)) ?? 0
            guard known > 0, total % known == 0 else { throw fail("cannot reshape \(input) to \(target)") }
            out[infer] = total / known
        }
        guard Shape.checkedProduct(out) == total else { throw fail("cannot reshape \(input) (\(total) elements) to \(target)") }
        return out
    }
}
