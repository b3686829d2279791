/// A hardware class: what one group of devices can run, and how the quantizer must build a
/// model for it. Loaded from a JSON profile (docs/quantization.md has the schema) and validated
/// on load, so a value of this type is always self-consistent.
public struct HardwareClass: Sendable, Hashable {
    /// The CPU family a class is for; `any` fits every CPU (portable reference kernels).
    public enum Architecture: String, Sendable, Hashable, CaseIterable {
        case x86_64, arm64, any
    }

    /// The int8 kernel table a class runs (CKernels' names).
    public enum KernelPath: String, Sendable, Hashable, CaseIterable {
        case reference, avx2, avx512vnni, neon, neondot

        /// Features `flotilla_q8_kernels_named` requires before it hands out this table.
        public var requiredFeatures: Set<String> {
            switch self {
            case .reference: return []
            case .avx2: return ["avx2", "fma"]
            case .avx512vnni: return ["avx512f", "avx512bw", "avx512vl", "avx512vnni", "avx2", "fma"]
            case .neon: return ["neon"]
            case .neondot: return ["neon", "dotprod"]
            }
        }

        public var architecture: Architecture {
            switch self {
            case .reference: return .any
            case .avx2, .avx512vnni: return .x86_64
            case .neon, .neondot: return .arm64
            }
        }

        /// Packed-weight layout ids the table writes (docs/kernels.md): AVX2 picks 3 (exact
        /// widening) or 4 (VPMADDUBSW, |w| ≤ 63) from the weights it packs.
        public func layoutID(weightBits: Int) -> Int {
            switch self {
            case .reference: return 1
            case .avx512vnni: return 2
            case .avx2: return weightBits == 7 ? 4 : 3
            case .neon: return 5
            case .neondot: return 6
            }
        }

        /// Preference when several classes fit one CPU: the fastest int8 path first.
        var rank: Int {
            switch self {
            case .avx512vnni: return 4
            case .avx2: return 3
            case .neondot: return 2
            case .neon: return 1
            case .reference: return 0
            }
        }
    }

    public enum WeightGranularity: String, Sendable, Hashable, CaseIterable {
        case perChannel, perTensor
    }

    /// How activations are stored (docs/int8-numerics.md "Tensors").
    public enum ActivationType: String, Sendable, Hashable, CaseIterable {
        case uint8Asymmetric, int8Symmetric, int8Asymmetric

        public var isSigned: Bool { self != .uint8Asymmetric }
        public var isSymmetric: Bool { self == .int8Symmetric }
        /// The storage range of q.
        public var qmin: Int32 { isSigned ? -128 : 0 }
        public var qmax: Int32 { isSigned ? 127 : 255 }
    }

    public enum CalibratorKind: String, Sendable, Hashable, CaseIterable {
        case minmax, percentile, entropy, mse
    }

    /// Graph-level recipes the quantizer may apply before choosing parameters.
    public enum Recipe: String, Sendable, Hashable, CaseIterable {
        case crossLayerEqualization, biasCorrection
    }

    public var name: String
    public var description: String
    public var architecture: Architecture
    /// Feature names as `CPUFeatures.names` spells them; a CPU must have all of them.
    public var requiredFeatures: Set<String>
    public var kernelPath: KernelPath
    /// Ops that run in int8 on this class; other ops fall back to fp32.
    public var int8Ops: Set<String>
    public var weightGranularity: WeightGranularity
    /// 8, or 7 ("reduce range", |q| ≤ 63) for the AVX2 VPMADDUBSW layout.
    public var weightBits: Int
    public var activationType: ActivationType
    /// The packed-weight layout id the class's kernels read (docs/kernels.md).
    public var weightLayout: Int
    public var memoryBudgetBytes: Int
    public var latencyBudgetMs: Double?
    /// Calibrators to try, in order of preference.
    public var calibrators: [CalibratorKind]
    /// Percentile used by the percentile calibrator (e.g. 99.99).
    public var percentile: Double
    public var recipes: [Recipe]

    /// The largest weight magnitude q may take: 127, or 63 in 7-bit mode.
    public var weightQMax: Int32 { weightBits == 7 ? 63 : 127 }
}

/// The ops the int8 contract (docs/int8-numerics.md) defines kernels or exact rules for.
/// A profile may list only these in `int8Ops`.
public enum QuantizableOps {
    public static let all: Set<String> = [
        "Conv", "Gemm", "MatMul", "Add", "Mul", "AveragePool", "GlobalAveragePool", "MaxPool",
        "Concat", "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
        "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Slice", "Split",
    ]
}
