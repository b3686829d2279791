import Foundation
import ONNXProto
import SwiftProtobuf
import TestSupport
import XCTest

/// A model built field by field in Swift must survive serialize → parse unchanged, with the
/// fields the importer relies on (ops, attributes, raw initializer bytes, opsets) intact.
final class ModelProtoRoundTripTests: XCTestCase {
    static func makeConvModel() -> Onnx_ModelProto {
        var rng = SplitMix64(seed: 0x5EED_0001)
        let weights = (0..<(4 * 3 * 3 * 3)).map { _ in rng.nextFloat() }

        var weight = Onnx_TensorProto()
        weight.name = "conv.weight"
        weight.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        weight.dims = [4, 3, 3, 3]
        weight.rawData = Data(littleEndianBytes(weights))

        var conv = Onnx_NodeProto()
        conv.name = "conv0"
        conv.opType = "Conv"
        conv.input = ["x", "conv.weight"]
        conv.output = ["y"]
        conv.attribute = [
            ints("kernel_shape", [3, 3]), ints("pads", [1, 1, 1, 1]), ints("strides", [1, 1]),
        ]

        var graph = Onnx_GraphProto()
        graph.name = "one_conv"
        graph.node = [conv]
        graph.initializer = [weight]
        graph.input = [tensorValue("x", [.dimParam("batch"), .dimValue(3), .dimValue(8), .dimValue(8)])]
        graph.output = [tensorValue("y", [.dimParam("batch"), .dimValue(4), .dimValue(8), .dimValue(8)])]

        var opset = Onnx_OperatorSetIdProto()
        opset.domain = ""
        opset.version = 21

        var model = Onnx_ModelProto()
        model.irVersion = 10
        model.producerName = "flotilla-tests"
        model.opsetImport = [opset]
        model.graph = graph
        return model
    }

    func testConvModelRoundTripsThroughBinary() throws {
        let model = Self.makeConvModel()
        let bytes: [UInt8] = try model.serializedBytes()
        let parsed = try Onnx_ModelProto(serializedBytes: bytes)

        XCTAssertEqual(parsed, model)
        XCTAssertEqual(parsed.irVersion, 10)
        XCTAssertEqual(parsed.opsetImport.map(\.version), [21])
        XCTAssertTrue(parsed.opsetImport[0].hasDomain, "an explicit empty domain must stay present")
        XCTAssertEqual(parsed.graph.node.map(\.opType), ["Conv"])
        XCTAssertEqual(parsed.graph.node[0].attribute.map(\.name), ["kernel_shape", "pads", "strides"])
        XCTAssertEqual(parsed.graph.node[0].attribute[1].ints, [1, 1, 1, 1])
        XCTAssertEqual(parsed.graph.node[0].attribute[1].type, .ints)

        let weight = parsed.graph.initializer[0]
        XCTAssertEqual(weight.dims, [4, 3, 3, 3])
        XCTAssertEqual(weight.rawData.count, 108 * 4)
        let original = model.graph.initializer[0].rawData
        XCTAssertEqual(littleEndianFloats(weight.rawData), littleEndianFloats(original))
        XCTAssertEqual(parsed.graph.input[0].type.tensorType.shape.dim[0].dimParam, "batch")
        XCTAssertEqual(parsed.graph.input[0].type.tensorType.shape.dim[3].dimValue, 8)
    }

    func testSerializationIsDeterministic() throws {
        let first: [UInt8] = try Self.makeConvModel().serializedBytes()
        let second: [UInt8] = try Self.makeConvModel().serializedBytes()
        XCTAssertEqual(first, second)
        // ir_version (field 1, varint 10) is written first: fields go out in number order.
        XCTAssertEqual(Array(first.prefix(2)), [0x08, 10])
    }

    func testUnsetOptionalFieldsStayUnset() throws {
        var node = Onnx_NodeProto()
        node.opType = "Relu"
        let parsed = try Onnx_NodeProto(serializedBytes: try node.serializedBytes() as [UInt8])
        XCTAssertTrue(parsed.hasOpType)
        XCTAssertFalse(parsed.hasDomain, "proto2 presence lets the importer tell '' from absent")
        XCTAssertFalse(parsed.hasName)
    }

    private static func ints(_ name: String, _ values: [Int64]) -> Onnx_AttributeProto {
        var attribute = Onnx_AttributeProto()
        attribute.name = name
        attribute.type = .ints
        attribute.ints = values
        return attribute
    }

    private static func tensorValue(
        _ name: String, _ dims: [Onnx_TensorShapeProto.Dimension.OneOf_Value]
    ) -> Onnx_ValueInfoProto {
        var shape = Onnx_TensorShapeProto()
        shape.dim = dims.map { value in
            var dim = Onnx_TensorShapeProto.Dimension()
            dim.value = value
            return dim
        }
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        info.type.tensorType.shape = shape
        return info
    }
}
