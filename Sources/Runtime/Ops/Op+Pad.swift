import ModelIR

/// Pad in all four modes (constant, reflect, edge, wrap), negative pads crop. Each output
/// axis gets a plan-time map from output index to input index (-1 = the constant).
func planPad(_ ctx: NodePlanContext) throws -> PlannedOp {
    let x = try ctx.input(0, anyStored)
    let pads = try ctx.requireInts(1, "pads")
    let axes = try (ctx.optionalInts(3, "axes") ?? Array(0..<x.rank)).map { try ctx.axis($0, rank: x.rank) }
    guard pads.count == 2 * axes.count, Set(axes).count == axes.count else {
        throw ctx.fail("pads \(pads) must have 2 × \(axes.count) entries (all begins, then all ends) for axes \(axes)")
    }
    guard pads.allSatisfy({ (-maxGeometryValue...maxGeometryValue).contains($0) }) else {
        throw ctx.fail("pads \(pads) exceed \(maxGeometryValue)")
    }
    var begin = [Int](repeating: 0, count: x.rank), end = [Int](repeating: 0, count: x.rank)
    for (k, a) in axes.enumerated() {
        begin[a] = pads[k]
        end[a] = pads[k + axes.count]
    }
    let mode = ctx.string("mode", "constant")
    guard ["constant", "reflect", "edge", "wrap"].contains(mode) else {
        throw ctx.fail("mode '\(mode)' is not one of constant, reflect, edge, wrap")
    }
    let size = x.elementType.byteSize ?? 1
    var value = [UInt8](repeating: 0, count: size)
    if ctx.has(2) {
        let v = try ctx.requireConstant(2, "constant_value")
        guard v.elementType == x.elementType, v.elementCount == 1 else {
            throw ctx.fail("constant_value must be one \(x.elementType), got \(v.elementType)\(v.shape)")
        }
        value = v.bytes
    }
    var outShape: [Int] = []
    var maps: [[Int]] = []
    for a in 0..<x.rank {
        let n = x.shape[a]
        let o = n + begin[a] + end[a]
        guard o >= 0 else { throw ctx.fail("pads crop axis \(a) of size \(n) below zero") }
        if mode != "constant", n == 0, o > 0 { throw ctx.fail("\(mode) padding of the empty axis \(a) has no values to copy") }
        var map: [Int] = []
        for j in 0..<o {
            let i = j - begin[a]
            if i >= 0 && i < n {
                map.append(i)
                continue
            }
            switch mode {
            case "edge": map.append(Swift.min(Swift.max(i, 0), n - 1))
            case "wrap": map.append(((i % n) + n) % n)
            case "reflect":
                if n == 1 {
                    // Reflecting a single element repeats it (what ONNX Runtime does).
                    map.append(0)
                } else {
                    let period = 2 * (n - 1)
                    var r = ((i % period) + period) % period
                    if r >= n { r = period - r }
                    map.append(r)
                }
            default: map.append(-1)
            }
        }
        outShape.append(o)
        maps.append(map)
    }
    let inStrides = rowMajorStrides(x.shape)
    let out = ValueType(x.elementType, outShape)
    return .kernel(outputs: [out], workspaceBytes: 0) { b in
        PadKernel(input: b.input(0), output: b.outputs[0], maps: maps, inStrides: inStrides, outShape: outShape, value: value)
    }
}

final class PadKernel: Kernel, @unchecked Sendable {
    // Sendable proof: plan-time constants only.
    let input, output: Buffer
    let maps: [[Int]]
    let inStrides: [Int]
    let outShape: [Int]
    let value: [UInt8]

    init(input: Buffer, output: Buffer, maps: [[Int]], inStrides: [Int], outShape: [Int], value: [UInt8]) {
        self.input = input
        self.output = output
        self.maps = maps
        self.inStrides = inStrides
        self.outShape = outShape
        self.value = value
    }

    func execute(_ memory: Memory) throws {
        guard !outShape.contains(0) else { return }
        let src = memory.raw(input)
        var dst = memory.raw(output)
        value.withUnsafeBytes { v in
            guard let vp = v.baseAddress else { return }
            if outShape.isEmpty {
                dst.copyMemory(from: src, byteCount: v.count)
                return
            }
            walk(0, 0, false, src, &dst, vp, v.count)
        }
    }

    private func walk(
        _ axis: Int, _ inOffset: Int, _ outside: Bool, _ src: UnsafeMutableRawPointer,
        _ dst: inout UnsafeMutableRawPointer, _ value: UnsafeRawPointer, _ size: Int
    ) {
        let map = maps[axis]
        let last = axis == maps.count - 1
        for j in 0..<outShape[axis] {
            let i = map[j]
            let out = outside || i < 0
            if last {
                if out {
                    dst.copyMemory(from: value, byteCount: size)
                } else {
                    dst.copyMemory(from: src + (inOffset + i) * size, byteCount: size)
                }
                dst += size
            } else {
                walk(axis + 1, out ? 0 : inOffset + i * inStrides[axis], out, src, &dst, value, size)
            }
        }
    }
}
