/// Why a release build (or one class of it) could not be made. Each description names the file,
/// class or key concerned and says what to do.
public enum BuildError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The model file is missing, not ONNX, or holds something the runtime cannot run.
    case model(path: String, detail: String)
    /// Calibration, evaluation or label data could not be read or does not fit the model.
    case data(path: String, detail: String)
    /// A requested hardware class is not in the registry.
    case unknownClass(name: String, known: [String])
    /// The hardware-class profiles could not be loaded.
    case profiles(detail: String)
    /// The output directory or a file in it could not be written.
    case output(path: String, detail: String)
    /// Quantizing, evaluating or packaging one class failed.
    case variant(hardwareClass: String, detail: String)
    /// A request field is out of range.
    case invalidRequest(detail: String)

    public var description: String {
        switch self {
        case .model(let path, let detail): return "model '\(path)': \(detail)"
        case .data(let path, let detail): return "data '\(path)': \(detail)"
        case .unknownClass(let name, let known):
            return "no hardware class '\(name)'; known classes: \(known.joined(separator: ", ")) (add a profile directory for others)"
        case .profiles(let detail): return "cannot load hardware-class profiles: \(detail)"
        case .output(let path, let detail): return "cannot write '\(path)': \(detail)"
        case .variant(let hardwareClass, let detail): return "\(hardwareClass): \(detail)"
        case .invalidRequest(let detail): return "invalid build request: \(detail)"
        }
    }
}
