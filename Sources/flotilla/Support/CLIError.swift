/// Every failure the `flotilla` commands report themselves. The description is what the user
/// reads after "Error:": what went wrong, which file/input/node, and what to do about it.
struct CLIError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) { self.description = description }

    /// Wraps an error from a library (importer, runtime, Foundation) with the file it concerns,
    /// keeping the library's own message, which already names the node or tensor.
    static func wrapping(_ error: any Error, path: String, doing what: String) -> CLIError {
        if let e = error as? CLIError { return e }
        return CLIError("\(what) '\(path)': \(String(describing: error))")
    }
}
