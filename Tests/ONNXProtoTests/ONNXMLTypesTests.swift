import Foundation
import ONNXProto
import SwiftProtobuf
import TestSupport
import XCTest

/// The onnx-ml superset and the onnx-data / onnx-operators-ml containers share one `Onnx_`
/// namespace; these check that the types scikit-learn exports and test data need are usable.
final class ONNXMLTypesTests: XCTestCase {
    /// ZipMap's output type in scikit-learn classifiers: seq(map(int64, tensor(float))).
    func testSequenceOfMapTypeRoundTrips() throws {
        var valueType = Onnx_TypeProto()
        valueType.tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        var mapType = Onnx_TypeProto()
        mapType.mapType.keyType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        mapType.mapType.valueType = valueType
        var sequenceType = Onnx_TypeProto()
        sequenceType.sequenceType.elemType = mapType

        var output = Onnx_ValueInfoProto()
        output.name = "output_probability"
        output.type = sequenceType

        let parsed = try Onnx_ValueInfoProto(serializedBytes: try output.serializedBytes() as [UInt8])
        XCTAssertEqual(parsed, output)
        guard case .sequenceType(let sequence)? = parsed.type.value,
            case .mapType(let map)? = sequence.elemType.value
        else {
            return XCTFail("expected seq(map(...)), got \(parsed.type)")
        }
        XCTAssertEqual(map.keyType, Int32(Onnx_TensorProto.DataType.int64.rawValue))
        XCTAssertEqual(map.valueType.tensorType.elemType, Int32(Onnx_TensorProto.DataType.float.rawValue))
    }

    func testMapAndOptionalContainersRoundTrip() throws {
        var values = Onnx_SequenceProto()
        values.elemType = Int32(Onnx_SequenceProto.DataType.tensor.rawValue)
        var rng = SplitMix64(seed: 42)
        values.tensorValues = (0..<3).map { _ in
            var tensor = Onnx_TensorProto()
            tensor.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            tensor.dims = [2]
            tensor.floatData = [rng.nextFloat(), rng.nextFloat()]
            return tensor
        }
        var map = Onnx_MapProto()
        map.name = "class_scores"
        map.keyType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        map.keys = [0, 7, -3]
        map.values = values

        var optional = Onnx_OptionalProto()
        optional.name = "maybe_scores"
        optional.elemType = Int32(Onnx_OptionalProto.DataType.map.rawValue)
        optional.mapValue = map

        let parsed = try Onnx_OptionalProto(serializedBytes: try optional.serializedBytes() as [UInt8])
        XCTAssertEqual(parsed, optional)
        XCTAssertTrue(parsed.hasMapValue)
        XCTAssertFalse(parsed.hasTensorValue)
        XCTAssertEqual(parsed.mapValue.keys, [0, 7, -3])
        XCTAssertEqual(parsed.mapValue.values.tensorValues.map(\.floatData), values.tensorValues.map(\.floatData))
    }

    /// onnx-operators-ml.proto's OperatorSetProto embeds onnx-ml types (FunctionProto).
    func testOperatorSetRoundTrips() throws {
        var op = Onnx_OperatorProto()
        op.opType = "LinearClassifier"
        op.sinceVersion = 1
        op.status = .stable
        var set = Onnx_OperatorSetProto()
        set.magic = "ONNXOPSET"
        set.domain = "ai.onnx.ml"
        set.opsetVersion = 5
        set.operator = [op]

        let parsed = try Onnx_OperatorSetProto(serializedBytes: try set.serializedBytes() as [UInt8])
        XCTAssertEqual(parsed, set)
        XCTAssertEqual(parsed.operator.first?.status, .stable)
    }
}
