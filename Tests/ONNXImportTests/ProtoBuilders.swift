import Foundation
import ModelIR
import ONNXImport
import ONNXProto
import SwiftProtobuf
import XCTest

/// Helpers that build ONNX protobufs in Swift, so each upgrade rule and each bad input has a
/// small, exact test model.
enum Proto {
    static func node(
        _ op: String, _ inputs: [String], _ outputs: [String], name: String = "", domain: String = "", _ attrs: [Onnx_AttributeProto] = []
    ) -> Onnx_NodeProto {
        var n = Onnx_NodeProto()
        n.opType = op
        n.input = inputs
        n.output = outputs
        n.name = name.isEmpty ? "\(op)_\(outputs.first ?? "")" : name
        if !domain.isEmpty { n.domain = domain }
        n.attribute = attrs
        return n
    }

    static func attr(_ name: String, int v: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(v)
        return a
    }

    static func attr(_ name: String, ints v: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = v.map(Int64.init)
        return a
    }

    static func attr(_ name: String, float v: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = v
        return a
    }

    static func attr(_ name: String, floats v: [Float]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .floats
        a.floats = v
        return a
    }

    static func attr(_ name: String, string v: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .string
        a.s = Data(v.utf8)
        return a
    }

    static func attr(_ name: String, tensor t: Onnx_TensorProto) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .tensor
        a.t = t
        return a
    }

    static func attr(_ name: String, graph g: Onnx_GraphProto) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .graph
        a.g = g
        return a
    }

    /// A float tensor stored in raw_data (little-endian).
    static func floats(_ name: String, _ values: [Float], _ dims: [Int]) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dataType = 1
        t.dims = dims.map(Int64.init)
        t.rawData = Data(values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } })
        return t
    }

    static func int64s(_ name: String, _ values: [Int64], _ dims: [Int]? = nil) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dataType = 7
        t.dims = (dims ?? [values.count]).map(Int64.init)
        t.int64Data = values
        return t
    }

    static func value(_ name: String, _ elemType: Int32 = 1, _ dims: [Any]?) -> Onnx_ValueInfoProto {
        var v = Onnx_ValueInfoProto()
        v.name = name
        var tt = Onnx_TypeProto.Tensor()
        tt.elemType = elemType
        if let dims {
            var shape = Onnx_TensorShapeProto()
            shape.dim = dims.map { d in
                var dim = Onnx_TensorShapeProto.Dimension()
                if let i = d as? Int { dim.dimValue = Int64(i) } else if let s = d as? String { dim.dimParam = s }
                return dim
            }
            tt.shape = shape
        }
        var type = Onnx_TypeProto()
        type.tensorType = tt
        v.type = type
        return v
    }

    static func graph(
        _ nodes: [Onnx_NodeProto], inputs: [Onnx_ValueInfoProto], outputs: [Onnx_ValueInfoProto], initializers: [Onnx_TensorProto] = []
    ) -> Onnx_GraphProto {
        var g = Onnx_GraphProto()
        g.name = "test"
        g.node = nodes
        g.input = inputs
        g.output = outputs
        g.initializer = initializers
        return g
    }

    static func model(_ graph: Onnx_GraphProto, opset: Int = 17, extraOpsets: [String: Int] = [:]) -> Onnx_ModelProto {
        var m = Onnx_ModelProto()
        m.irVersion = 8
        m.producerName = "flotilla-tests"
        var o = Onnx_OperatorSetIdProto()
        o.domain = ""
        o.version = Int64(opset)
        m.opsetImport = [o]
        for (d, v) in extraOpsets {
            var e = Onnx_OperatorSetIdProto()
            e.domain = d
            e.version = Int64(v)
            m.opsetImport.append(e)
        }
        m.graph = graph
        return m
    }

    static func bytes(_ m: Onnx_ModelProto) throws -> [UInt8] { try m.serializedBytes() }
}

/// Imports without passes, so tests see exactly what the upgrade produced.
func importRaw(_ m: Onnx_ModelProto, passes: Bool = false, allowUnsupported: Bool = false) throws -> Model {
    var o = ONNXImporter.Options()
    o.applyStandardPasses = passes
    o.allowUnsupported = allowUnsupported
    return try ONNXImporter.importModel(from: try Proto.bytes(m), options: o)
}

func assertImportError(_ m: Onnx_ModelProto, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try importRaw(m), file: file, line: line) { e in
        let s = "\(e)"
        for p in parts { XCTAssertTrue(s.contains(p), "'\(p)' not in: \(s)", file: file, line: line) }
    }
}
