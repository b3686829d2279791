/// Byte-moving and arithmetic helpers for `BuiltinConstantEvaluator`. These run at import
/// time on small shape tensors, so they favour clarity over speed.
extension BuiltinConstantEvaluator {
    static func concat(_ parts: [Tensor], axis: Int, _ fail: (String) -> ModelIRError) throws -> Tensor {
        guard let first = parts.first else { throw fail("Concat needs at least one input") }
        guard let a = Shape.normalize(axis: axis, rank: first.rank) else {
            throw fail("axis \(axis) is out of range for rank \(first.rank)")
        }
        guard first.elementType != .string, let size = first.elementType.byteSize else { throw fail("cannot fold string Concat") }
        for p in parts {
            guard p.elementType == first.elementType, p.rank == first.rank,
                (0..<p.rank).allSatisfy({ $0 == a || p.shape[$0] == first.shape[$0] })
            else { throw fail("inputs \(parts.map(\.shape)) do not agree outside axis \(a)") }
        }
        let outer = Shape.checkedProduct(Array(first.shape[..<a])) ?? 0
        let inner = Shape.checkedProduct(Array(first.shape[(a + 1)...])) ?? 0
        let byteParts = parts.map(\.bytes)
        var out: [UInt8] = []
        for o in 0..<outer {
            for (p, bytes) in zip(parts, byteParts) {
                let chunk = p.shape[a] * inner * size
                out += bytes[(o * chunk)..<((o + 1) * chunk)]
            }
        }
        var shape = first.shape
        shape[a] = parts.reduce(0) { $0 + $1.shape[a] }
        return try Tensor(elementType: first.elementType, shape: shape, bytes: out)
    }

    static func gather(_ data: Tensor, indices: Tensor, axis: Int, _ fail: (String) -> ModelIRError) throws -> Tensor {
        guard let a = Shape.normalize(axis: axis, rank: data.rank) else { throw fail("axis \(axis) is out of range for rank \(data.rank)") }
        guard let idx = indices.asInt64s else { throw fail("indices must be integers") }
        guard let size = data.elementType.byteSize else { throw fail("cannot fold string Gather") }
        let n = data.shape[a]
        let outer = Shape.checkedProduct(Array(data.shape[..<a])) ?? 0
        let inner = Shape.checkedProduct(Array(data.shape[(a + 1)...])) ?? 0
        let bytes = data.bytes
        var out: [UInt8] = []
        for o in 0..<outer {
            for i in idx {
                let j = i < 0 ? Int(i) + n : Int(i)
                guard (0..<n).contains(j) else { throw fail("index \(i) is out of range for axis \(a) of size \(n)") }
                let start = ((o * n) + j) * inner * size
                out += bytes[start..<(start + inner * size)]
            }
        }
        return try Tensor(
            elementType: data.elementType, shape: Array(data.shape[..<a]) + indices.shape + Array(data.shape[(a + 1)...]), bytes: out)
    }

    static func slice(
        _ x: Tensor, starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?, _ fail: (String) -> ModelIRError
    ) throws -> Tensor {
        let axes = axes ?? Array(0..<starts.count)
        let steps = steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw fail("starts, ends, axes and steps must have the same length")
        }
        guard let size = x.elementType.byteSize else { throw fail("cannot fold string Slice") }
        var picks: [[Int]] = x.shape.map { Array(0..<$0) }
        for k in axes.indices {
            guard let a = Shape.normalize(axis: axes[k], rank: x.rank) else { throw fail("axis \(axes[k]) is out of range") }
            guard steps[k] != 0 else { throw fail("step 0 on axis \(a)") }
            let (lo, hi) = ShapeInferenceRegistry.sliceBounds(start: starts[k], end: ends[k], step: steps[k], size: x.shape[a])
            picks[a] = Array(stride(from: lo, to: hi, by: steps[k]))
        }
        let outShape = picks.map(\.count)
        let count = Shape.checkedProduct(outShape) ?? 0
        var strides = Array(repeating: 1, count: x.rank)
        for i in stride(from: x.rank - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * x.shape[i + 1] }
        let bytes = x.bytes
        var out: [UInt8] = []
        out.reserveCapacity(count * size)
        var coord = Array(repeating: 0, count: x.rank)
        for _ in 0..<count {
            var offset = 0
            for i in 0..<x.rank { offset += picks[i][coord[i]] * strides[i] }
            out += bytes[(offset * size)..<((offset + 1) * size)]
            var i = x.rank - 1
            while i >= 0 {
                coord[i] += 1
                if coord[i] < outShape[i] { break }
                coord[i] = 0
                i -= 1
            }
        }
        return try Tensor(elementType: x.elementType, shape: outShape, bytes: out)
    }

    /// Casts numeric tensors. Float → integer truncates toward zero and saturates (NaN → 0),
    /// so no input can trap. Returns nil for unsupported pairs (strings, float16 targets).
    static func cast(_ x: Tensor, to: ElementType) throws -> Tensor? {
        if x.elementType == to { return x }
        switch to {
        case .float32:
            guard let d = x.asDoubles else { return nil }
            return try Tensor(floats: d.map { Float($0) }, shape: x.shape)
        case .float64:
            guard let d = x.asDoubles else { return nil }
            return try Tensor(doubles: d, shape: x.shape)
        case .bool:
            guard let d = x.asDoubles else { return nil }
            return try Tensor(bools: d.map { $0 != 0 }, shape: x.shape)
        case .int8, .uint8, .int16, .uint16, .int32, .uint32, .int64, .uint64:
            let ints: [Int64]
            if x.elementType.isFloatingPoint {
                guard let d = x.asDoubles else { return nil }
                ints = d.map { v in v.isNaN ? 0 : Int64(exactly: v.rounded(.towardZero)) ?? (v < 0 ? Int64.min : Int64.max) }
            } else {
                guard let i = x.asInt64s else { return nil }
                ints = i
            }
            return try integerTensor(ints, to, x.shape)
        case .float16, .string:
            return nil
        }
    }

    /// Integer values stored as `type`, wrapping like a C cast (ONNX's integer-to-integer cast).
    static func integerTensor(_ v: [Int64], _ type: ElementType, _ shape: [Int]) throws -> Tensor {
        let bytes: [UInt8]
        switch type {
        case .int8: bytes = Tensor.encode(v.map { Int8(truncatingIfNeeded: $0) })
        case .uint8: bytes = v.map { UInt8(truncatingIfNeeded: $0) }
        case .int16: bytes = Tensor.encode(v.map { Int16(truncatingIfNeeded: $0) })
        case .uint16: bytes = Tensor.encode(v.map { UInt16(truncatingIfNeeded: $0) })
        case .int32: bytes = Tensor.encode(v.map { Int32(truncatingIfNeeded: $0) })
        case .uint32: bytes = Tensor.encode(v.map { UInt32(truncatingIfNeeded: $0) })
        case .uint64: bytes = Tensor.encode(v.map { UInt64(bitPattern: $0) })
        default: bytes = Tensor.encode(v)
        }
        return try Tensor(elementType: type, shape: shape, bytes: bytes)
    }

    /// Broadcasting Add/Sub/Mul/Div on integer and float tensors of the same type. Integer
    /// arithmetic wraps; integer division truncates and rejects division by zero.
    static func arithmetic(
        _ op: String, _ a: Tensor, _ b: Tensor, maxElements: Int, _ fail: (String) -> ModelIRError
    ) throws -> Tensor? {
        guard a.elementType == b.elementType else { throw fail("operand types differ: \(a.elementType) and \(b.elementType)") }
        let rank = max(a.rank, b.rank)
        let sa = Array(repeating: 1, count: rank - a.rank) + a.shape
        let sb = Array(repeating: 1, count: rank - b.rank) + b.shape
        var out: [Int] = []
        for (x, y) in zip(sa, sb) {
            guard x == y || x == 1 || y == 1 else { throw fail("cannot broadcast \(a.shape) with \(b.shape)") }
            out.append(x == 1 ? y : x)
        }
        guard let count = Shape.checkedProduct(out), count <= maxElements else { return nil }
        func index(_ linear: Int, _ shape: [Int]) -> Int {
            var rem = linear
            var idx = 0
            var step = 1
            for i in Swift.stride(from: rank - 1, through: 0, by: -1) {
                let c = rem % out[i]
                rem /= out[i]
                if shape[i] != 1 { idx += c * step }
                step *= shape[i]
            }
            return idx
        }
        if a.elementType.isInteger, let x = a.asInt64s, let y = b.asInt64s {
            var r: [Int64] = []
            r.reserveCapacity(count)
            for i in 0..<count {
                let p = x[index(i, sa)]
                let q = y[index(i, sb)]
                switch op {
                case "Add": r.append(p &+ q)
                case "Sub": r.append(p &- q)
                case "Mul": r.append(p &* q)
                default:
                    guard q != 0 else { throw fail("integer division by zero") }
                    r.append(p.dividedReportingOverflow(by: q).partialValue)
                }
            }
            return try integerTensor(r, a.elementType, out)
        }
        guard a.elementType == .float32 || a.elementType == .float64, let x = a.asDoubles, let y = b.asDoubles else { return nil }
        var r: [Double] = []
        r.reserveCapacity(count)
        for i in 0..<count {
            let p = x[index(i, sa)]
            let q = y[index(i, sb)]
            switch op {
            case "Add": r.append(p + q)
            case "Sub": r.append(p - q)
            case "Mul": r.append(p * q)
            default: r.append(p / q)
            }
        }
        if a.elementType == .float32 {
            // Compute in float32 to match what a float32 runtime would produce.
            var f: [Float] = []
            for i in 0..<count {
                let p = Float(x[index(i, sa)]), q = Float(y[index(i, sb)])
                switch op {
                case "Add": f.append(p + q)
                case "Sub": f.append(p - q)
                case "Mul": f.append(p * q)
                default: f.append(p / q)
                }
            }
            return try Tensor(floats: f, shape: out)
        }
        return try Tensor(doubles: r, shape: out)
    }

    static func range(_ start: Tensor, _ limit: Tensor, _ delta: Tensor, maxElements: Int, _ fail: (String) -> ModelIRError) throws
        -> Tensor?
    {
        guard start.elementCount == 1, limit.elementCount == 1, delta.elementCount == 1 else {
            throw fail("start, limit and delta must be scalars")
        }
        guard let s = start.asDoubles?.first, let l = limit.asDoubles?.first, let d = delta.asDoubles?.first else { return nil }
        guard d != 0 else { throw fail("delta is 0") }
        let steps = ((l - s) / d).rounded(.up)
        guard steps.isFinite else { throw fail("range length is not finite") }
        let n = max(0, steps)
        guard n <= Double(maxElements) else { return nil }
        let count = Int(n)
        if start.elementType.isInteger, let si = start.asInt64s?.first, let di = delta.asInt64s?.first {
            return try integerTensor((0..<count).map { si &+ Int64($0) &* di }, start.elementType, [count])
        }
        if start.elementType == .float32 {
            let sf = Float(s), df = Float(d)
            return try Tensor(floats: (0..<count).map { sf + Float($0) * df }, shape: [count])
        }
        return try Tensor(doubles: (0..<count).map { s + Double($0) * d }, shape: [count])
    }
}
