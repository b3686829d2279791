public import Foundation
public import ModelIR
import ONNXProto
import SwiftProtobuf

/// Reads ONNX models into canonical ModelIR: every node upgraded to the newest opset's form,
/// initializers decoded (raw_data, typed fields, external files; float16 → float32), value
/// types inferred, and by default the standard passes applied.
public enum ONNXImporter {
    public struct Options: Sendable {
        /// Run `PassPipeline.standard` after import (constant folding, Identity/Dropout
        /// removal, BN folding, activation fusion, dead-node removal).
        public var applyStandardPasses = true
        /// Return the model and the list of unsupported ops instead of throwing.
        public var allowUnsupported = false
        /// Initializers also listed as graph inputs are treated as constants (dropped from the
        /// inputs), which is what deployment wants and what IR < 4 meant. Set to false to keep
        /// them as overridable inputs.
        public var initializerInputsAreConstants = true
        /// Tensors (initializers, attribute tensors) larger than this are rejected before
        /// allocation.
        public var maxTensorBytes = 4 << 30
        public var evaluator: any ConstantEvaluator = BuiltinConstantEvaluator()

        public init() {}
    }

    /// The result of an import that tolerates unsupported ops (for `flotilla inspect`).
    public struct Result: Sendable {
        public var model: Model
        public var unsupported: [UnsupportedOp]
        public var passReports: [PassReport]
    }

    /// ai.onnx opsets the importer accepts.
    public static let supportedOpsets = 7...Model.canonicalOpset

    public static func importModel(from url: URL, options: Options = Options()) throws -> Model {
        try importModelWithReport(from: url, options: options).model
    }

    public static func importModel(from bytes: some Collection<UInt8>, options: Options = Options()) throws -> Model {
        try importModelWithReport(from: Data(bytes), baseDirectory: nil, options: options).model
    }

    public static func importModelWithReport(from url: URL, options: Options = Options()) throws -> Result {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw ONNXImportError.io(path: url.path, detail: "\(error.localizedDescription)")
        }
        return try importModelWithReport(from: data, baseDirectory: url.deletingLastPathComponent(), options: options)
    }

    /// Imports from serialized bytes. External data is resolved against `baseDirectory`.
    public static func importModelWithReport(from data: Data, baseDirectory: URL?, options: Options = Options()) throws -> Result {
        try FileSignature.rejectKnownNonONNX(data)
        let proto: Onnx_ModelProto
        do {
            var decoding = BinaryDecodingOptions()
            decoding.messageDepthLimit = 64
            proto = try Onnx_ModelProto(serializedBytes: data, options: decoding)
        } catch {
            throw ONNXImportError.malformedProtobuf("\(error)")
        }
        return try importModel(proto, baseDirectory: baseDirectory, options: options)
    }

    /// Imports an already decoded `ModelProto`.
    static func importModel(_ proto: Onnx_ModelProto, baseDirectory: URL?, options: Options) throws -> Result {
        guard proto.hasGraph, proto.irVersion > 0 else {
            throw ONNXImportError.notONNX("no ir_version or graph field; this is some other protobuf or binary file")
        }
        let opsets = try Opsets(proto.opsetImport)
        var importer = GraphImporter(
            opsets: opsets, reader: TensorReader(baseDirectory: baseDirectory, maxTensorBytes: options.maxTensorBytes),
            initializerInputsAreConstants: options.initializerInputsAreConstants || proto.irVersion < 4)
        var graph = try importer.graph(proto.graph, isMain: true)
        do {
            try graph.validate()
            try graph.sortTopologically()
        } catch let e as ModelIRError {
            throw ONNXImportError.invalidGraph(e)
        }
        if !importer.unsupported.isEmpty && !options.allowUnsupported {
            throw ONNXImportError.unsupportedOps(importer.unsupported)
        }
        var model = Model(
            graph: graph, opsetImports: opsets.declared, producerName: proto.producerName, producerVersion: proto.producerVersion,
            metadata: Dictionary(proto.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last }))
        var reports: [PassReport] = []
        do {
            try ShapeInference().run(on: &model.graph)
            if options.applyStandardPasses {
                reports = try PassPipeline.standard(evaluator: options.evaluator).run(on: &model)
                try ShapeInference().run(on: &model.graph)
            }
        } catch let e as ModelIRError {
            throw ONNXImportError.invalidGraph(e)
        }
        importer.fillUntypedOutputs(&model.graph)
        return Result(model: model, unsupported: importer.unsupported, passReports: reports)
    }
}

/// The opset versions a model declares, validated against what the importer supports.
///
/// A model needs an ai.onnx import only if it uses ops of the default domain (ONNX IR spec:
/// every domain a node uses must be imported); a pure ai.onnx.ml pipeline declares none. A
/// default-domain node in a model without the import is reported at that node
/// (`ONNXImportError.missingOpsetImport`) rather than as "opset 0".
struct Opsets {
    var declared: [String: Int] = [:]

    /// ai.onnx.ml opsets of ONNX 1.23.2 (TreeEnsemble arrived in 5).
    static let supportedML = 1...5

    init(_ imports: [Onnx_OperatorSetIdProto]) throws {
        for i in imports {
            let domain = i.domain == "ai.onnx" ? "" : i.domain
            declared[domain] = Int(clamping: i.version)
        }
        if let onnx = declared[""], !ONNXImporter.supportedOpsets.contains(onnx) {
            throw ONNXImportError.unsupportedOpset(domain: "", version: onnx, supported: ONNXImporter.supportedOpsets)
        }
        if let ms = declared["com.microsoft"], ms != 1 {
            throw ONNXImportError.unsupportedOpset(domain: "com.microsoft", version: ms, supported: 1...1)
        }
        if let ml = declared["ai.onnx.ml"], !Self.supportedML.contains(ml) {
            throw ONNXImportError.unsupportedOpset(domain: "ai.onnx.ml", version: ml, supported: Self.supportedML)
        }
    }

    /// The declared version of `domain`; nil when the model does not import it. Custom domains
    /// that are used without an import are read as version 1, as ONNX Runtime does.
    func version(_ domain: String) -> Int? {
        let d = domain == "ai.onnx" ? "" : domain
        if let v = declared[d] { return v }
        return d.isEmpty || d == "ai.onnx.ml" ? nil : 1
    }
}

/// Signatures of formats people mistake for ONNX models, for a clear message instead of a
/// protobuf decoding error.
enum FileSignature {
    static func rejectKnownNonONNX(_ data: Data) throws {
        let head = [UInt8](data.prefix(8))
        let known: [([UInt8], String)] = [
            ([0x50, 0x4B, 0x03, 0x04], "a zip archive (a PyTorch .pt checkpoint or a zipped model?); unzip it or export to ONNX"),
            ([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59], "a NumPy .npy array, not a model"),
            ([0x89, 0x48, 0x44, 0x46], "an HDF5 file (a Keras .h5 model?); convert it with tf2onnx"),
            ([0x1F, 0x8B], "a gzip file; decompress it first"),
            ([0x28, 0xB5, 0x2F, 0xFD], "a zstd-compressed file (a Flotilla artifact?); decompress it first"),
            ([0x80, 0x02], "a Python pickle (a PyTorch checkpoint?); export the model with torch.onnx.export"),
            ([0x7B], "a JSON document, not a binary ONNX model"),
        ]
        for (magic, what) in known where head.starts(with: magic) {
            throw ONNXImportError.notONNX("the file is \(what)")
        }
        if data.isEmpty { throw ONNXImportError.notONNX("the file is empty") }
        if head.count >= 4, head[4...].isEmpty == false, Array(head[4..<min(8, head.count)]) == [0x66, 0x74, 0x79, 0x70] {
            throw ONNXImportError.notONNX("the file is an ISO media file")
        }
    }
}
