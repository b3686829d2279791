import Foundation

/// An elementwise activation fused into the op that produces its input (Conv, ConvTranspose,
/// Gemm, MatMul, Add), applied to that op's output before it is stored. Parameters follow the
/// ONNX ops they replace.
public enum Activation: Sendable, Hashable, CustomStringConvertible {
    case relu
    /// Clamp to `[min, max]`; ONNX's absent bounds become -infinity / +infinity.
    case clip(min: Float, max: Float)
    case leakyRelu(alpha: Float)
    /// `max(0, min(1, alpha * x + beta))`.
    case hardSigmoid(alpha: Float, beta: Float)
    /// `x * max(0, min(1, x / 6 + 0.5))`.
    case hardSwish
    case sigmoid
    case tanh

    /// Applies the activation to one value: the reference definition that kernels must match.
    public func apply(_ x: Float) -> Float {
        switch self {
        case .relu: return Swift.max(x, 0)
        case .clip(let lo, let hi): return Swift.min(Swift.max(x, lo), hi)
        case .leakyRelu(let a): return x < 0 ? a * x : x
        case .hardSigmoid(let a, let b): return Swift.max(0, Swift.min(1, a * x + b))
        case .hardSwish: return x * Swift.max(0, Swift.min(1, x / 6 + 0.5))
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .tanh: return Foundation.tanh(x)
        }
    }

    public var description: String {
        switch self {
        case .relu: return "Relu"
        case .clip(let lo, let hi): return "Clip(\(lo), \(hi))"
        case .leakyRelu(let a): return "LeakyRelu(\(a))"
        case .hardSigmoid(let a, let b): return "HardSigmoid(\(a), \(b))"
        case .hardSwish: return "HardSwish"
        case .sigmoid: return "Sigmoid"
        case .tanh: return "Tanh"
        }
    }
}
