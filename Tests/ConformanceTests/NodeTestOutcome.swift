/// What happened to one ONNX node test.
enum NodeTestOutcome: Equatable {
    /// Every output of every data set matched. `note` says how the case had to be run (graph
    /// inputs the runtime needs at plan time, bound to the data set's values).
    case pass(note: String?)
    case fail(NodeTestFailure)
    case skip(SkipReason)

    var label: String {
        switch self {
        case .pass: return "pass"
        case .fail: return "fail"
        case .skip: return "skip"
        }
    }
}

/// A supported op that imported, planned or ran wrongly, or gave wrong numbers.
struct NodeTestFailure: Equatable {
    enum Stage: String {
        case load = "data"
        case importer = "import"
        case plan
        case run
        case compare
    }

    var stage: Stage
    var detail: String

    var description: String { "\(stage.rawValue): \(detail)" }
}

/// Why a test was not held against the runtime. Each reason names the op, type or feature.
enum SkipReason: Equatable {
    /// Ops the runtime does not implement (after import: an op the importer rewrites into
    /// supported ops does not count).
    case unsupportedOps([String])
    /// An element type the runtime cannot hold, or that the op does not run on.
    case elementType(String, op: String?)
    /// Graph inputs or outputs that are sequences, optionals or maps.
    case nonTensorValues([String])
    /// Training-mode behaviour (BatchNormalization/Dropout training_mode, the training domain).
    case trainingMode(String)
    /// A feature Flotilla deliberately leaves out; `context` says where it was met.
    case unsupportedFeature(String, context: String? = nil)

    /// The bucket the summary counts this reason in.
    var category: String {
        switch self {
        case .unsupportedOps: return "op not supported by the runtime"
        case .elementType(let t, _): return "element type not supported: \(t)"
        case .nonTensorValues: return "sequence/optional/map values"
        case .trainingMode: return "training mode"
        case .unsupportedFeature(let f, _): return "feature not supported: \(f)"
        }
    }

    var description: String {
        switch self {
        case .unsupportedOps(let ops): return "op not supported by the runtime: \(ops.joined(separator: ", "))"
        case .elementType(let t, let op): return "element type not supported: \(t)" + (op.map { " (\($0))" } ?? "")
        case .nonTensorValues(let types): return "sequence/optional/map values: \(types.joined(separator: ", "))"
        case .trainingMode(let what): return "training mode: \(what)"
        case .unsupportedFeature(let f, let context): return "feature not supported: \(f)" + (context.map { " — \($0)" } ?? "")
        }
    }
}
