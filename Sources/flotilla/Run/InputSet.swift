import Foundation
import ModelIR
import Runtime

/// The tensors given on the command line (`--input X.npy`, `--input name=Y.npy`,
/// `--input-npz F.npz`), matched to the model's inputs, checked against their declared types,
/// and the symbolic dimensions they bind (a 64-row input binds N = 64).
struct InputSet {
    /// Tensor and where it came from, by model input name.
    var tensors: [String: (tensor: Tensor, source: String)] = [:]
    var bindings: [String: Int] = [:]

    /// Loads and matches the files. `explicitBindings` (`--bind`) must agree with the shapes.
    static func load(
        inputs specs: [String], npz: [String], model inputs: [ValueInfo],
        explicitBindings: [String: Int]
    ) throws -> InputSet {
        var set = InputSet()
        let names = inputs.map(\.name)
        let list = names.map { "'\($0)'" }.joined(separator: ", ")
        var unnamed: [String] = []

        func add(_ name: String, _ tensor: Tensor, _ source: String) throws {
            guard names.contains(name) else {
                throw CLIError("the model has no input '\(name)' (from \(source)); its inputs are \(list)")
            }
            if let previous = set.tensors[name] {
                throw CLIError("input '\(name)' is given twice (\(previous.source) and \(source)); give it once")
            }
            set.tensors[name] = (tensor, source)
        }

        for spec in specs {
            if let eq = spec.firstIndex(of: "="), names.contains(String(spec[..<eq])) || !FileManager.default.fileExists(atPath: spec) {
                let name = String(spec[..<eq])
                let path = String(spec[spec.index(after: eq)...])
                try add(name, try readNPY(path), path)
            } else {
                unnamed.append(spec)
            }
        }
        for path in npz {
            let members = try readNPZ(path)
            let matching = members.keys.filter(names.contains)
            if matching.isEmpty, members.count == 1, inputs.count == 1, let only = members.first {
                // np.savez(f, x) names the array "arr_0": with one array and one input, use it.
                try add(names[0], only.value, "\(path):\(only.key)")
                continue
            }
            for key in members.keys.sorted() {
                guard names.contains(key) else {
                    throw CLIError(
                        "\(path) holds array '\(key)', which is not a model input; the model's inputs are \(list) "
                            + "(name the arrays after them: np.savez(f, \(names.first ?? "input")=x))")
                }
                if let t = members[key] { try add(key, t, "\(path):\(key)") }
            }
        }
        if unnamed.count > 1 {
            throw CLIError("\(unnamed.count) --input files without a name; name them: --input NAME=FILE.npy (model inputs: \(list))")
        }
        if let path = unnamed.first {
            guard inputs.count == 1 else {
                throw CLIError(
                    "--input \(path) has no name but the model has \(inputs.count) inputs (\(list)); "
                        + "use --input NAME=\(path)")
            }
            try add(names[0], try readNPY(path), path)
        }
        try set.bind(to: inputs, explicit: explicitBindings)
        return set
    }

    /// Checks every model input is present with the right element type and rank, fixed
    /// dimensions equal, and symbols bound consistently.
    private mutating func bind(to inputs: [ValueInfo], explicit: [String: Int]) throws {
        bindings = explicit
        var boundBy: [String: String] = Dictionary(uniqueKeysWithValues: explicit.keys.map { ($0, "--bind \($0)=\(explicit[$0] ?? 0)") })
        for input in inputs {
            let expected = input.type.userDescription
            guard let (tensor, source) = tensors[input.name] else {
                throw CLIError(
                    "missing input '\(input.name)': the model expects \(expected); "
                        + "pass --input \(inputs.count == 1 ? "" : "\(input.name)=")FILE.npy")
            }
            guard tensor.elementType == input.type.elementType else {
                throw CLIError(
                    "input '\(input.name)' (\(source)) is \(tensor.elementType) but the model expects \(expected); "
                        + "convert it, e.g. numpy: x.astype(np.\(input.type.elementType.rawValue))")
            }
            guard let shape = input.type.shape else { continue }
            let wrongShape = "input '\(input.name)' (\(source)) has shape \(tensor.shape) but the model expects \(expected)"
            guard tensor.shape.count == shape.rank else {
                throw CLIError("\(wrongShape): rank \(tensor.shape.count) instead of \(shape.rank)")
            }
            for (axis, (dim, size)) in zip(shape.dims, tensor.shape).enumerated() {
                switch dim {
                case .fixed(let v) where v != size:
                    throw CLIError("\(wrongShape): dimension \(axis) is \(size), not \(v)")
                case .symbolic(let s):
                    if let b = bindings[s], b != size {
                        throw CLIError(
                            "\(wrongShape): dimension \(axis) (\(s)) is \(size), but \(boundBy[s] ?? "another input") set \(s) = \(b)")
                    }
                    bindings[s] = size
                    boundBy[s] = boundBy[s] ?? "input '\(input.name)'"
                default: break
                }
            }
        }
    }

    /// The tensors by input name, for `Session.run`.
    var feeds: [String: Tensor] { tensors.mapValues(\.tensor) }

    static func readNPY(_ path: String) throws -> Tensor {
        let url = try ModelLoader.existingFile(path)
        do {
            return try NPYFile.read(url)
        } catch {
            throw CLIError("cannot read input \(error)")
        }
    }

    static func readNPZ(_ path: String) throws -> [String: Tensor] {
        let url = try ModelLoader.existingFile(path)
        do {
            return try NPZFile.read(url)
        } catch {
            throw CLIError("cannot read inputs \(error)")
        }
    }
}
