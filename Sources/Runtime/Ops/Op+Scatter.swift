import ModelIR

/// GatherElements, ScatterElements, GatherND, ScatterND on any stored element type; the
/// scatter reductions (add, mul, max, min) on float32, int64 and int32. Indices are checked at
/// run time (negative ones count from the end); an out-of-range index is an execution error,
/// never an out-of-bounds access. Scatter writes happen in index order, so duplicate indices
/// with reduction "none" keep the last update, as in ONNX's reference.
extension OpRegistry {
    mutating func registerScatter() {
        register("GatherElements") { ctx in
            let data = try ctx.input(0, anyStored), idx = try ctx.input(1, [.int64, .int32])
            guard data.rank >= 1, idx.rank == data.rank else {
                throw ctx.fail("data \(data.shape) and indices \(idx.shape) must have the same rank ≥ 1")
            }
            let axis = try ctx.axis(ctx.int("axis", 0), rank: data.rank)
            let geo = ElementsGeometry(data: data.shape, indices: idx.shape, axis: axis, elementSize: data.elementType.byteSize ?? 1)
            return .kernel(outputs: [ValueType(data.elementType, idx.shape)], workspaceBytes: 0) { b in
                ElementsKernel(
                    geo: geo, data: b.input(0), indices: b.input(1), updates: nil, output: b.outputs[0],
                    wide: idx.elementType == .int64, combine: nil, node: ctx.node.name, opType: "GatherElements")
            }
        }
        register("ScatterElements") { ctx in
            let data = try ctx.input(0, anyStored), idx = try ctx.input(1, [.int64, .int32]), upd = try ctx.input(2, anyStored)
            guard data.rank >= 1, idx.rank == data.rank, upd.shape == idx.shape, upd.elementType == data.elementType else {
                throw ctx.fail(
                    "data \(data), indices \(idx.shape) and updates \(upd) need one rank, updates shaped like indices and typed like data")
            }
            let axis = try ctx.axis(ctx.int("axis", 0), rank: data.rank)
            let combine = try scatterCombine(ctx, data.elementType)
            let geo = ElementsGeometry(data: data.shape, indices: idx.shape, axis: axis, elementSize: data.elementType.byteSize ?? 1)
            return .kernel(outputs: [data], workspaceBytes: 0) { b in
                ElementsKernel(
                    geo: geo, data: b.input(0), indices: b.input(1), updates: b.input(2), output: b.outputs[0],
                    wide: idx.elementType == .int64, combine: combine, node: ctx.node.name, opType: "ScatterElements")
            }
        }
        register("GatherND") { ctx in
            let data = try ctx.input(0, anyStored), idx = try ctx.input(1, [.int64])
            let batch = ctx.int("batch_dims", 0)
            guard idx.rank >= 1, batch >= 0, batch < Swift.min(data.rank, idx.rank), let k = idx.shape.last, k >= 1, batch + k <= data.rank,
                Array(data.shape[..<batch]) == Array(idx.shape[..<batch])
            else {
                throw ctx.fail(
                    "data \(data.shape), indices \(idx.shape) and batch_dims \(batch) do not fit (indices' last dimension ≤ data rank − batch_dims, equal batch dimensions)"
                )
            }
            let outShape = Array(idx.shape.dropLast()) + Array(data.shape[(batch + k)...])
            let geo = NDGeometry(data: data.shape, indices: idx.shape, batch: batch, elementSize: data.elementType.byteSize ?? 1)
            return .kernel(outputs: [ValueType(data.elementType, outShape)], workspaceBytes: 0) { b in
                NDKernel(
                    geo: geo, data: b.input(0), indices: b.input(1), updates: nil, output: b.outputs[0], combine: nil,
                    node: ctx.node.name, opType: "GatherND")
            }
        }
        register("ScatterND") { ctx in
            let data = try ctx.input(0, anyStored), idx = try ctx.input(1, [.int64]), upd = try ctx.input(2, anyStored)
            guard idx.rank >= 1, let k = idx.shape.last, k >= 1, k <= data.rank, upd.elementType == data.elementType,
                upd.shape == Array(idx.shape.dropLast()) + Array(data.shape[k...])
            else {
                throw ctx.fail("indices \(idx.shape) and updates \(upd) do not fit data \(data) (updates = indices[:-1] + data[k:])")
            }
            let combine = try scatterCombine(ctx, data.elementType)
            let geo = NDGeometry(data: data.shape, indices: idx.shape, batch: 0, elementSize: data.elementType.byteSize ?? 1)
            return .kernel(outputs: [data], workspaceBytes: 0) { b in
                NDKernel(
                    geo: geo, data: b.input(0), indices: b.input(1), updates: b.input(2), output: b.outputs[0], combine: combine,
                    node: ctx.node.name, opType: "ScatterND")
            }
        }
    }
}

/// How a scatter merges an update into the output element (nil: overwrite).
typealias ScatterCombine = @Sendable (UnsafeMutableRawPointer, UnsafeRawPointer) -> Void

private func scatterCombine(_ ctx: NodePlanContext, _ type: ElementType) throws -> ScatterCombine? {
    let reduction = ctx.string("reduction", "none")
    if reduction == "none" { return nil }
    func make<T: Numeric & Comparable & Sendable>(_: T.Type, _ add: @escaping @Sendable (T, T) -> T, _ mul: @escaping @Sendable (T, T) -> T)
        throws
        -> ScatterCombine
    {
        let f: @Sendable (T, T) -> T
        switch reduction {
        case "add": f = add
        case "mul": f = mul
        case "max": f = { Swift.max($0, $1) }
        case "min": f = { Swift.min($0, $1) }
        default: throw ctx.fail("reduction '\(reduction)' is not one of none, add, mul, max, min")
        }
        return { d, s in
            let p = d.assumingMemoryBound(to: T.self)
            p.pointee = f(p.pointee, s.load(as: T.self))
        }
    }
    switch type {
    case .float32: return try make(Float.self, { $0 + $1 }, { $0 * $1 })
    case .int64: return try make(Int64.self, { $0 &+ $1 }, { $0 &* $1 })
    case .int32: return try make(Int32.self, { $0 &+ $1 }, { $0 &* $1 })
    default:
        throw ctx.fail("reduction '\(reduction)' runs on float32, int64 and int32, not \(type)", .unsupportedElementType(type))
    }
}

@inline(__always)
func loadIndex(_ p: UnsafeMutableRawPointer, _ j: Int, wide: Bool) -> Int {
    wide ? Int(truncatingIfNeeded: p.load(fromByteOffset: j * 8, as: Int64.self)) : Int(p.load(fromByteOffset: j * 4, as: Int32.self))
}

struct ElementsGeometry: Sendable {
    let data: [Int]
    let indices: [Int]
    let axis: Int
    let elementSize: Int
    let dataStrides: [Int]
    let indexStrides: [Int]
    let count: Int

    init(data: [Int], indices: [Int], axis: Int, elementSize: Int) {
        self.data = data
        self.indices = indices
        self.axis = axis
        self.elementSize = elementSize
        dataStrides = rowMajorStrides(data)
        indexStrides = rowMajorStrides(indices)
        count = indices.reduce(1, *)
    }
}

/// GatherElements (updates nil) and ScatterElements: element j of indices addresses data at
/// j's coordinates with the axis coordinate replaced by the index.
final class ElementsKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let geo: ElementsGeometry
    let data, indices, output: Buffer
    let updates: Buffer?
    let wide: Bool
    let combine: ScatterCombine?
    let node, opType: String

    init(
        geo: ElementsGeometry, data: Buffer, indices: Buffer, updates: Buffer?, output: Buffer, wide: Bool, combine: ScatterCombine?,
        node: String, opType: String
    ) {
        self.geo = geo
        self.data = data
        self.indices = indices
        self.updates = updates
        self.output = output
        self.wide = wide
        self.combine = combine
        self.node = node
        self.opType = opType
    }

    func execute(_ memory: Memory) throws {
        let src = memory.raw(data), dst = memory.raw(output), idx = memory.raw(indices)
        let g = geo, es = g.elementSize, axisSize = g.data[g.axis]
        let upd = updates.map { memory.raw($0) }
        if upd != nil { dst.copyMemory(from: src, byteCount: g.data.reduce(1, *) * es) }
        for j in 0..<g.count {
            var i = loadIndex(idx, j, wide: wide)
            if i < 0 { i += axisSize }
            guard i >= 0 && i < axisSize else {
                throw RuntimeError.executionFailed(
                    node: node, opType: opType,
                    detail: "index \(loadIndex(idx, j, wide: wide)) at position \(j) is out of range for axis \(g.axis) of size \(axisSize)"
                )
            }
            var offset = 0
            for d in 0..<g.data.count {
                let c = d == g.axis ? i : (j / g.indexStrides[d]) % g.indices[d]
                offset += c * g.dataStrides[d]
            }
            if let upd {
                if let combine {
                    combine(dst + offset * es, upd + j * es)
                } else {
                    (dst + offset * es).copyMemory(from: upd + j * es, byteCount: es)
                }
            } else {
                (dst + j * es).copyMemory(from: src + offset * es, byteCount: es)
            }
        }
    }
}

struct NDGeometry: Sendable {
    let data: [Int]
    let batch: Int
    /// Index tuples, their length k, tuples per batch entry, elements per addressed slice.
    let tuples, k, tuplesPerBatch, slice: Int
    let dataStrides: [Int]
    let elementSize: Int

    init(data: [Int], indices: [Int], batch: Int, elementSize: Int) {
        self.data = data
        self.batch = batch
        k = indices.last ?? 1
        tuples = indices.dropLast().reduce(1, *)
        tuplesPerBatch = indices[batch..<(indices.count - 1)].reduce(1, *)
        slice = data[(batch + k)...].reduce(1, *)
        dataStrides = rowMajorStrides(data)
        self.elementSize = elementSize
    }
}

/// GatherND (updates nil) and ScatterND: each index tuple addresses a slice of data.
final class NDKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let geo: NDGeometry
    let data, indices, output: Buffer
    let updates: Buffer?
    let combine: ScatterCombine?
    let node, opType: String

    init(
        geo: NDGeometry, data: Buffer, indices: Buffer, updates: Buffer?, output: Buffer, combine: ScatterCombine?, node: String,
        opType: String
    ) {
        self.geo = geo
        self.data = data
        self.indices = indices
        self.updates = updates
        self.output = output
        self.combine = combine
        self.node = node
        self.opType = opType
    }

    func execute(_ memory: Memory) throws {
        let src = memory.raw(data), dst = memory.raw(output), idx = memory.raw(indices)
        let g = geo, es = g.elementSize
        let upd = updates.map { memory.raw($0) }
        if upd != nil { dst.copyMemory(from: src, byteCount: g.data.reduce(1, *) * es) }
        let batchStride = g.batch > 0 ? g.dataStrides[g.batch - 1] : 0
        for t in 0..<g.tuples {
            var offset = g.batch > 0 ? (t / Swift.max(g.tuplesPerBatch, 1)) * batchStride : 0
            for c in 0..<g.k {
                let axis = g.batch + c, size = g.data[axis]
                var i = loadIndex(idx, t * g.k + c, wide: true)
                if i < 0 { i += size }
                guard i >= 0 && i < size else {
                    throw RuntimeError.executionFailed(
                        node: node, opType: opType,
                        detail:
                            "index tuple \(t) holds \(loadIndex(idx, t * g.k + c, wide: true)), out of range for axis \(axis) of size \(size)"
                    )
                }
                offset += i * g.dataStrides[axis]
            }
            if let upd {
                let u = upd + t * g.slice * es, d = dst + offset * es
                if let combine {
                    for e in 0..<g.slice { combine(d + e * es, u + e * es) }
                } else {
                    d.copyMemory(from: u, byteCount: g.slice * es)
                }
            } else {
                (dst + t * g.slice * es).copyMemory(from: src + offset * es, byteCount: g.slice * es)
            }
        }
    }
}
