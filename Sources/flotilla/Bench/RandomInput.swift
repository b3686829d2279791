import Foundation
import ModelIR

/// Seeded input data for `bench` when no input file is given: the same seed gives the same
/// bytes on every machine (SplitMix64, no platform RNG).
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Standard normal (Box–Muller); image-like models are fed normalized data of this scale.
    mutating func normal() -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let u2 = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

enum RandomInput {
    /// A tensor of `type` filled from `generator`: N(0, 1) for floats, 0…9 for integers (small
    /// enough to be valid indices or class ids in most models), random for bool.
    static func tensor(_ elementType: ElementType, shape: [Int], using generator: inout SeededGenerator) throws -> Tensor {
        let count = Shape.checkedProduct(shape) ?? 0
        switch elementType {
        case .float32: return try Tensor(floats: (0..<count).map { _ in Float(generator.normal()) }, shape: shape)
        case .float64: return try Tensor(doubles: (0..<count).map { _ in generator.normal() }, shape: shape)
        case .int64: return try Tensor(int64s: (0..<count).map { _ in Int64.random(in: 0...9, using: &generator) }, shape: shape)
        case .int32: return try Tensor(int32s: (0..<count).map { _ in Int32.random(in: 0...9, using: &generator) }, shape: shape)
        case .int8: return try Tensor(int8s: (0..<count).map { _ in Int8.random(in: -9...9, using: &generator) }, shape: shape)
        case .uint8: return try Tensor(uint8s: (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }, shape: shape)
        case .bool: return try Tensor(bools: (0..<count).map { _ in Bool.random(using: &generator) }, shape: shape)
        default:
            throw CLIError("cannot generate random \(elementType) data; give an input file with --input")
        }
    }
}
