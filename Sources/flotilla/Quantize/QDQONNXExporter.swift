import Foundation
import ModelIR
import ONNXProto
import SwiftProtobuf

/// Writes a QDQ ModelIR graph as an ONNX file ONNX Runtime can load (`--export-qdq`). A
/// minimal writer for what the quantizer emits, not a general ModelIR → ONNX exporter:
/// main-graph nodes with int/float/string/ints/floats attributes (data-type attributes turned
/// back into ONNX enum numbers), initializers as raw data, fused activations written back as
/// separate nodes. Anything else (subgraphs, tensor attributes) is refused by name.
/// The file declares ai.onnx opset 21 (ONNX Runtime's support lags the canonical opset 28;
/// every op the quantizer emits means the same in both).
enum QDQONNXExporter {
    static let opset: Int64 = 21
    static let dataTypeAttributes: Set<String> = ["to", "output_dtype", "dtype"]

    static func export(_ model: Model, to url: URL) throws {
        var proto = Onnx_ModelProto()
        proto.irVersion = 10
        proto.producerName = "flotilla quantize"
        var onnx = Onnx_OperatorSetIdProto()
        onnx.domain = ""
        onnx.version = opset
        proto.opsetImport = [onnx]
        for domain in Set(model.graph.nodes.map(\.domain)).subtracting([""]).sorted() {
            var other = Onnx_OperatorSetIdProto()
            other.domain = domain
            other.version = Int64(model.opsetImports[domain] ?? 1)
            proto.opsetImport.append(other)
        }
        proto.graph = try graph(model.graph)
        do {
            let bytes: [UInt8] = try proto.serializedBytes()
            try Data(bytes).write(to: url)
        } catch {
            throw CLIError("cannot write the QDQ ONNX model to \(url.path): \(error)")
        }
    }

    static func graph(_ g: Graph) throws -> Onnx_GraphProto {
        var out = Onnx_GraphProto()
        out.name = g.name
        var names = NameSet(g)
        for n in g.nodes {
            var node = Onnx_NodeProto()
            node.domain = n.domain
            node.name = n.name
            node.opType = n.opType
            node.input = n.inputs
            node.output = n.outputs
            for key in n.attributes.keys.sorted() {
                guard var value = n.attributes[key] else { continue }
                // ModelIR keeps data-type attributes as ElementType names; ONNX wants the enum.
                if Self.dataTypeAttributes.contains(key), case .string(let name) = value, let t = ElementType(rawValue: name) {
                    value = .int(Int(try dataType(t)))
                }
                node.attribute.append(try attribute(key, value, node: n.name))
            }
            guard let act = n.fusedActivation, let y = n.outputs.first else {
                out.node.append(node)
                continue
            }
            // The fused activation goes back to its own node, reading a fresh intermediate.
            let pre = names.fresh(y + "_preactivation")
            node.output[0] = pre
            out.node.append(node)
            out.node.append(
                try activationNode(act, input: pre, output: y, name: names.fresh(n.name + "_activation"), graph: &out, names: &names))
        }
        for name in g.initializers.keys.sorted() {
            guard let t = g.initializers[name] else { continue }
            out.initializer.append(try tensor(t, name: name))
        }
        out.input = try g.inputs.filter { g.initializers[$0.name] == nil }.map(valueInfo)
        out.output = try g.outputs.map(valueInfo)
        return out
    }

    static func activationNode(
        _ a: Activation, input: String, output: String, name: String, graph: inout Onnx_GraphProto, names: inout NameSet
    ) throws -> Onnx_NodeProto {
        var node = Onnx_NodeProto()
        node.name = name
        node.input = [input]
        node.output = [output]
        switch a {
        case .relu: node.opType = "Relu"
        case .clip(let lo, let hi):
            node.opType = "Clip"
            let l = names.fresh(name + "_min"), h = names.fresh(name + "_max")
            graph.initializer.append(try tensor(Tensor(floats: [lo], shape: []), name: l))
            graph.initializer.append(try tensor(Tensor(floats: [hi], shape: []), name: h))
            node.input += [l, h]
        case .leakyRelu(let alpha):
            node.opType = "LeakyRelu"
            node.attribute = [try attribute("alpha", .float(alpha), node: name)]
        case .hardSigmoid(let alpha, let beta):
            node.opType = "HardSigmoid"
            node.attribute = [try attribute("alpha", .float(alpha), node: name), try attribute("beta", .float(beta), node: name)]
        case .hardSwish: node.opType = "HardSwish"
        case .sigmoid: node.opType = "Sigmoid"
        case .tanh: node.opType = "Tanh"
        }
        return node
    }

    static func attribute(_ key: String, _ value: Attribute, node: String) throws -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = key
        switch value {
        case .int(let v):
            a.type = .int
            a.i = Int64(v)
        case .float(let v):
            a.type = .float
            a.f = v
        case .string(let v):
            a.type = .string
            a.s = Data(v.utf8)
        case .ints(let v):
            a.type = .ints
            a.ints = v.map { Int64($0) }
        case .floats(let v):
            a.type = .floats
            a.floats = v
        default:
            throw CLIError("cannot export attribute '\(key)' of node '\(node)': only int/float/string/ints/floats attributes are written")
        }
        return a
    }

    static func dataType(_ t: ElementType) throws -> Int32 {
        switch t {
        case .float32: return 1
        case .uint8: return 2
        case .int8: return 3
        case .uint16: return 4
        case .int16: return 5
        case .int32: return 6
        case .int64: return 7
        case .bool: return 9
        case .float16: return 10
        case .float64: return 11
        case .uint32: return 12
        case .uint64: return 13
        default: throw CLIError("cannot export element type \(t)")
        }
    }

    static func tensor(_ t: Tensor, name: String) throws -> Onnx_TensorProto {
        var p = Onnx_TensorProto()
        p.name = name
        p.dims = t.shape.map { Int64($0) }
        p.dataType = try dataType(t.elementType)
        p.rawData = t.withUnsafeBytes { Data($0) }
        return p
    }

    static func valueInfo(_ v: ValueInfo) throws -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = v.name
        var tt = Onnx_TypeProto.Tensor()
        tt.elemType = try dataType(v.type.elementType)
        if let dims = v.type.shape?.dims {
            var shape = Onnx_TensorShapeProto()
            shape.dim = dims.map { d in
                var x = Onnx_TensorShapeProto.Dimension()
                if let s = d.symbol { x.dimParam = s } else if let n = d.value { x.dimValue = Int64(n) }
                return x
            }
            tt.shape = shape
        }
        var type = Onnx_TypeProto()
        type.tensorType = tt
        info.type = type
        return info
    }
}
