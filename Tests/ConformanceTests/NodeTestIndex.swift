import Foundation

/// `DIR/index.json` as scripts/make-onnx-node-tests.py writes it.
struct NodeTestIndex: Decodable {
    struct Value: Decodable {
        var name: String
        /// "float", "int64", "seq(float)", "optional(seq(int32))", "map(int64,float)"...
        var type: String

        /// A plain dense tensor (not a sequence, optional, map or sparse tensor).
        var isTensor: Bool { !type.contains("(") }
    }

    struct Case: Decodable {
        var name: String
        /// The op the case tests (for a function-expanded case, the op it expands).
        var op: String
        /// Op types of every node, subgraphs included: "Conv", "ai.onnx.ml:LabelEncoder".
        var ops: [String]
        var opsets: [String: Int]
        var rtol: Double
        var atol: Double
        var dataSets: Int
        var inputs: [Value]
        var outputs: [Value]
    }

    var onnxVersion: String
    var count: Int
    var tests: [Case]

    static func load(_ url: URL) throws -> NodeTestIndex {
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(NodeTestIndex.self, from: Data(contentsOf: url))
        } catch {
            throw ConformanceError.data(
                path: url.path, detail: "cannot read the index (\(error)); regenerate it with scripts/make-onnx-node-tests.py --force")
        }
    }
}

/// Problems of the harness itself (not of the runtime under test).
enum ConformanceError: Error, CustomStringConvertible {
    case data(path: String, detail: String)
    case generator(String)

    var description: String {
        switch self {
        case .data(let p, let d): return "\(p): \(d)"
        case .generator(let d): return d
        }
    }
}
