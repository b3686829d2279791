import Foundation

/// One `test_data_set_<i>` directory: `input_<j>.pb` and `output_<j>.pb` paired with the
/// graph's input and output names by position, as ONNX's backend runner pairs them.
struct NodeTestDataSet {
    var inputs: [(name: String, tensor: StoredTensor)] = []
    var outputs: [(name: String, tensor: StoredTensor)] = []

    init(caseDir: URL, index: Int, case c: NodeTestIndex.Case) throws {
        let dir = caseDir.appendingPathComponent("test_data_set_\(index)")
        inputs = try Self.read(dir, "input", c.inputs)
        outputs = try Self.read(dir, "output", c.outputs)
        guard outputs.count == c.outputs.count else {
            throw ConformanceError.data(path: dir.path, detail: "\(outputs.count) output files for \(c.outputs.count) graph outputs")
        }
    }

    /// Files `<prefix>_0.pb`, `<prefix>_1.pb`... up to the first missing one (a case may feed
    /// fewer inputs than the graph declares).
    private static func read(_ dir: URL, _ prefix: String, _ values: [NodeTestIndex.Value]) throws -> [(name: String, tensor: StoredTensor)]
    {
        var out: [(name: String, tensor: StoredTensor)] = []
        for (j, v) in values.enumerated() {
            let url = dir.appendingPathComponent("\(prefix)_\(j).pb")
            guard FileManager.default.fileExists(atPath: url.path) else { break }
            out.append((v.name, try StoredTensor(contentsOf: url)))
        }
        return out
    }
}
