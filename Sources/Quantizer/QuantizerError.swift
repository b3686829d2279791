/// Everything the quantizer refuses, each naming the thing at fault (file, key, tensor, node)
/// and saying how to fix it.
public enum QuantizerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A hardware-class profile is malformed or inconsistent. `file` is the path as given
    /// ("<memory>" for decoded bytes), `key` the JSON key path at fault.
    case invalidProfile(file: String, key: String, detail: String)
    /// Two profiles declare the same class name.
    case duplicateProfile(name: String, files: [String])
    /// A directory of profiles (or the built-in one) cannot be found or read.
    case profileDirectory(path: String, detail: String)
    /// No hardware class fits a CPU.
    case noMatchingClass(features: String, detail: String)
    /// A calibrator was asked for a range before seeing any finite value, or was fed bad data.
    case calibration(tensor: String, detail: String)
    /// Quantization parameters cannot be derived (non-finite range, bad weights, bias overflow).
    case parameters(tensor: String, detail: String)
    /// Calibration data cannot be read or does not fit the model.
    case calibrationData(path: String, detail: String)
    /// A graph rewrite (CLE, bias correction) met a node it cannot handle.
    case graph(node: String, detail: String)

    public var description: String {
        switch self {
        case .invalidProfile(let file, let key, let detail):
            return "hardware-class profile \(file): '\(key)': \(detail)"
        case .duplicateProfile(let name, let files):
            return "hardware class '\(name)' is defined twice (\(files.joined(separator: ", "))); rename one or drop the directory"
        case .profileDirectory(let path, let detail):
            return "hardware-class directory \(path): \(detail)"
        case .noMatchingClass(let features, let detail):
            return "no hardware class runs on a CPU with features [\(features)]: \(detail)"
        case .calibration(let tensor, let detail):
            return "calibration of '\(tensor)': \(detail)"
        case .parameters(let tensor, let detail):
            return "quantization parameters for '\(tensor)': \(detail)"
        case .calibrationData(let path, let detail):
            return "calibration data \(path): \(detail)"
        case .graph(let node, let detail):
            return "node '\(node)': \(detail)"
        }
    }
}
