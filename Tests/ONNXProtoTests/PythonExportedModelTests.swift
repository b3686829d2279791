import Foundation
import ONNXProto
import SwiftProtobuf
import XCTest

/// Parses files written by the Python onnx package (see Resources/make_fixtures.py) and checks
/// the fields against what the script put in.
final class PythonExportedModelTests: XCTestCase {
    func testTinyConvModelFields() throws {
        let model = try Onnx_ModelProto(serializedBytes: try Fixtures.bytes("tiny_conv", "onnx"))

        XCTAssertEqual(model.irVersion, 10)
        XCTAssertEqual(model.producerName, "flotilla-fixture")
        XCTAssertEqual(model.opsetImport.count, 1)
        XCTAssertEqual(model.opsetImport.first?.domain, "")
        XCTAssertEqual(model.opsetImport.first?.version, 21)

        let graph = model.graph
        XCTAssertEqual(graph.name, "tiny_conv")
        XCTAssertEqual(graph.node.map(\.opType), ["Conv", "Relu", "Reshape"])
        XCTAssertEqual(graph.node.map(\.name), ["conv0", "relu0", "reshape0"])
        XCTAssertEqual(graph.node[0].input, ["x", "conv.weight", "conv.bias"])
        let attributes = Dictionary(uniqueKeysWithValues: graph.node[0].attribute.map { ($0.name, $0) })
        XCTAssertEqual(attributes["kernel_shape"]?.ints, [3, 3])
        XCTAssertEqual(attributes["pads"]?.ints, [1, 1, 1, 1])
        XCTAssertEqual(attributes["pads"]?.type, .ints)

        XCTAssertEqual(graph.initializer.map(\.name), ["conv.weight", "conv.bias", "shape"])
        XCTAssertEqual(graph.initializer.map(\.dims), [[2, 1, 3, 3], [2], [2]])

        // numpy_helper.from_array writes raw_data; the script used (i - 9) / 8 for the weights.
        let weight = graph.initializer[0]
        XCTAssertEqual(weight.dataType, Int32(Onnx_TensorProto.DataType.float.rawValue))
        XCTAssertTrue(weight.floatData.isEmpty)
        XCTAssertEqual(littleEndianFloats(weight.rawData), (0..<18).map { Float($0 - 9) * 0.125 })
        XCTAssertEqual(littleEndianFloats(graph.initializer[1].rawData), [0.5, -0.25])

        // make_tensor(raw=False) writes the typed repeated field instead.
        let shape = graph.initializer[2]
        XCTAssertEqual(shape.dataType, Int32(Onnx_TensorProto.DataType.int64.rawValue))
        XCTAssertFalse(shape.hasRawData)
        XCTAssertEqual(shape.int64Data, [1, 32])

        let input = graph.input[0].type.tensorType
        XCTAssertEqual(input.elemType, Int32(Onnx_TensorProto.DataType.float.rawValue))
        XCTAssertEqual(input.shape.dim.map(\.value), [.dimParam("N"), .dimValue(1), .dimValue(4), .dimValue(4)])
        XCTAssertEqual(graph.output[0].type.tensorType.shape.dim.map(\.dimValue), [1, 32])
    }

    /// Python's protobuf and swift-protobuf both write fields in number order, so re-serializing
    /// an unmodified model must give the exact bytes back; a difference would mean a field was
    /// dropped or mis-typed by the generated code.
    func testTinyConvModelReserializesToTheSameBytes() throws {
        let bytes = try Fixtures.bytes("tiny_conv", "onnx")
        let model = try Onnx_ModelProto(serializedBytes: bytes)
        XCTAssertEqual(try model.serializedBytes() as [UInt8], bytes)
        XCTAssertTrue(model.unknownFields.data.isEmpty, "the 1.23.2 schema must know every field")
    }

    /// Backend test data (test_data_set_*/input_*.pb) is a bare TensorProto.
    func testBackendStyleTensorFile() throws {
        let tensor = try Onnx_TensorProto(serializedBytes: try Fixtures.bytes("input_0", "pb"))
        XCTAssertEqual(tensor.name, "x")
        XCTAssertEqual(tensor.dims, [1, 1, 4, 4])
        XCTAssertEqual(tensor.dataType, Int32(Onnx_TensorProto.DataType.float.rawValue))
        XCTAssertEqual(littleEndianFloats(tensor.rawData), (0..<16).map { Float($0) * 0.25 })
    }

    /// Sequence inputs of the backend tests use onnx-data.proto's SequenceProto.
    func testSequenceFile() throws {
        let sequence = try Onnx_SequenceProto(serializedBytes: try Fixtures.bytes("sequence_0", "pb"))
        XCTAssertEqual(sequence.name, "seq")
        XCTAssertEqual(sequence.elemType, Int32(Onnx_SequenceProto.DataType.tensor.rawValue))
        XCTAssertEqual(sequence.tensorValues.map(\.dims), [[3], [1]])
        XCTAssertEqual(sequence.tensorValues.map { littleEndianInt32s($0.rawData) }, [[1, 2, 3], [-4]])
    }
}
