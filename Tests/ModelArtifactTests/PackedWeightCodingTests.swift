import ModelIR
import XCTest

@testable import ModelArtifact

/// Packed weights through the artifact: refusals name the weight, and the reader's name the
/// place in the graph section while keeping ModelIR's reason.
final class PackedWeightCodingTests: XCTestCase {
    func testReaderRefusesABadLayoutIdNamingTheWeight() throws {
        let sections = try TestArtifacts.sections(of: TestArtifacts.write())
        let graph = String(decoding: sections.first { $0.0 == .graph }?.1 ?? [], as: UTF8.self)
        let mutated = graph.replacingOccurrences(of: #""layout":"qs8_gemm_avx512vnni_v1""#, with: #""layout":"qs8 gemm""#)
        XCTAssertNotEqual(mutated, graph, "the mutation applies")
        let bytes = try ArtifactWriter.assemble(
            sections.map { $0.0 == .graph ? ($0.0, Array(mutated.utf8)) : $0 }, signingKey: nil)
        guard
            case .invalidContent(let section, let path, let detail) = artifactError({
                try ArtifactReader.read(bytes: bytes, trust: .skipSignatureCheck)
            })
        else { return XCTFail("a bad layout id is refused as invalid content") }
        XCTAssertEqual(section, "graph")
        XCTAssertTrue(path.contains("w_packed"), path)
        XCTAssertTrue(detail.contains("layout \"qs8 gemm\"") && detail.contains("[A-Za-z0-9_.-]"), detail)
    }

    func testWriterRefusesAPackedWeightOfTooHighRankNamingIt() throws {
        let shape = [Int](repeating: 1, count: ArtifactFormat.maxRank + 1)
        var packed = try TestArtifacts.packedWeights()
        packed["deep"] = try PackedTensor(layout: "l", elementType: .int8, shape: shape, bytes: [1])
        guard
            case .unsupportedModel(let path, let detail) = artifactError({
                try ArtifactWriter().write(model: TestArtifacts.model(), manifest: TestArtifacts.manifest(), packedWeights: packed)
            })
        else { return XCTFail("a packed weight the reader would refuse is not written") }
        XCTAssertEqual(path, "packed weight 'deep'")
        XCTAssertTrue(detail.contains("exceeds rank \(ArtifactFormat.maxRank)"), detail)
    }
}
