import ArgumentParser
import Foundation

/// `flotilla inspect MODEL.onnx [--json]`
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Describe an ONNX model: inputs, outputs, ops, weights, MACs and what Flotilla cannot run.",
        discussion: """
            Never fails on an unsupported op: every node the importer or the runtime cannot handle is \
            listed with its name, op, domain and opset. MACs count Conv, ConvTranspose, Gemm and MatMul \
            with symbolic dimensions (the batch) bound to 1.
            """
    )

    @Argument(help: "The ONNX model.")
    var model: String

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    func run() throws {
        let summary = try ModelSummary.make(path: model)
        if json {
            print(try JSONText.encode(summary))
        } else {
            print(summary.renderText())
        }
    }
}

/// Pretty, key-sorted JSON for the commands' `--json` output.
enum JSONText {
    static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
