import Foundation
import ModelIR
import Runtime
import TestSupport
import XCTest

/// An independent Swift statement of docs/int8-numerics.md, for computing expected bytes.
enum Contract {
    /// m → (M, shift): m = f·2ᵉ, f ∈ [0.5, 1), M = round(f·2³¹) half away from zero, shift = −e.
    static func multiplier(_ m: Double) -> (Int64, Int) {
        if m < pow(2, -32) { return (0, 0) }
        let e = m.exponent + 1  // m = f·2^e with f in [0.5, 1)
        let f = m / pow(2, Double(e))
        var big = Int64((f * 2147483648).rounded(.toNearestOrAwayFromZero))
        var ee = e
        if big == 1 << 31 {
            big = 1 << 30
            ee += 1
        }
        return (big, -ee)
    }

    static func roundShift(_ v: Int64, _ n: Int) -> Int64 { (v + (Int64(1) << (n - 1))) >> n }

    static func requant(_ acc: Int64, _ m: Double, zp: Int64, lo: Int64, hi: Int64) -> Int64 {
        let (mm, shift) = multiplier(m)
        let q = mm == 0 ? 0 : roundShift(acc * mm, 31 + shift)
        return min(max(zp + q, lo), hi)
    }

    static func add(
        _ a: Int64, _ za: Int64, _ sa: Double, _ b: Int64, _ zb: Int64, _ sb: Double, zy: Int64, sy: Double,
        lo: Int64, hi: Int64
    ) -> Int64 {
        let s = 2 * max(sa, sb)
        let (ma, sha) = multiplier(sa / s), (mb, shb) = multiplier(sb / s)
        let a2 = roundShift((a - za) * (1 << 20) * ma, 31 + sha), b2 = roundShift((b - zb) * (1 << 20) * mb, 31 + shb)
        return requant(a2 + b2, s / (Double(1 << 20) * sy), zp: zy, lo: lo, hi: hi)
    }
}

func tu8(_ v: [UInt8], _ shape: [Int]) -> Tensor { (try? Tensor(uint8s: v, shape: shape)) ?? .scalar(Float(0)) }
func ts8(_ v: [Int8], _ shape: [Int]) -> Tensor { (try? Tensor(int8s: v, shape: shape)) ?? .scalar(Float(0)) }
func ts32(_ v: [Int32], _ shape: [Int]) -> Tensor { (try? Tensor(int32s: v, shape: shape)) ?? .scalar(Float(0)) }
func tf(_ v: [Float], _ shape: [Int] = []) -> Tensor { (try? Tensor(floats: v, shape: shape)) ?? .scalar(Float(0)) }

extension SplitMix64 {
    mutating func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8(truncatingIfNeeded: next()) } }
    mutating func weights(_ n: Int) -> [Int8] { (0..<n).map { _ in Int8(Int(next() % 255) - 127) } }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
}

/// The int8 kernel paths this CPU can run (the reference always).
func runnableInt8Paths() -> [KernelPath] {
    ["reference", "avx2", "avx512vnni", "neon", "neondot"].compactMap { name in
        let path: KernelPath = name == "reference" ? .reference : .named(name)
        guard let plan = try? ExecutionPlan(graph: Graph(), options: .init(kernels: path)), plan.int8KernelPathName == name else {
            return nil
        }
        return path
    }
}

/// Runs a graph of `nodes` with graph inputs `inputs` and constants `constants`; returns the
/// named outputs.
func runGraph(
    _ nodes: [Node], inputs: [(String, Tensor)], constants: [String: Tensor], outputs: [String],
    kernels: KernelPath = .automatic, packed: [String: PackedTensor] = [:]
) throws -> [String: Tensor] {
    let graph = Graph(
        nodes: nodes, inputs: inputs.map { ValueInfo($0.0, $0.1.tensorType) },
        outputs: outputs.map { ValueInfo($0, TensorType(.float32, nil)) }, initializers: constants)
    let plan = try ExecutionPlan(graph: graph, options: .init(kernels: kernels, packedWeights: packed))
    return try plan.makeSession().run(inputs: Dictionary(uniqueKeysWithValues: inputs))
}

func byteValues(_ t: Tensor?) -> [Int64] {
    guard let t else { return [] }
    switch t.elementType {
    case .uint8: return (t.uint8s ?? []).map(Int64.init)
    case .int8: return (t.int8s ?? []).map(Int64.init)
    case .int32: return (t.int32s ?? []).map(Int64.init)
    default: return []
    }
}
