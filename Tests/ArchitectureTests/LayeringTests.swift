import Foundation
import XCTest

/// Checks the module map of docs/architecture.md against the imports the sources actually
/// make, so a layering violation fails CI instead of waiting for review.
final class LayeringTests: XCTestCase {
    /// Layer of every module; a module may import only modules of a strictly lower layer.
    static let layers: [String: Int] = [
        "CMosquitto": 0, "CZstd": 0, "CKernels": 0,
        "Zstd": 1, "MQTT": 1, "ModelIR": 1, "ProcessSupport": 1,
        "ONNXProto": 2, "ONNXImport": 2, "Runtime": 2, "ModelArtifact": 2,
        "Quantizer": 3, "FleetProtocol": 3,
        "FleetMQTT": 4, "FleetPKI": 4,
        "Agent": 5, "Coordinator": 5,
        "FleetSimulator": 6,
        "flotilla": 7, "flotilla-coordinator": 7, "flotilla-agent": 7,
    ]

    /// Within one layer, these edges are part of the design (the importer reads the generated
    /// protobuf types).
    static let sameLayerEdges: Set<String> = ["ONNXImport->ONNXProto"]

    /// The only Swift module allowed to import each C library.
    static let cImporters = ["CMosquitto": "MQTT", "CZstd": "Zstd", "CKernels": "Runtime"]

    static var sourcesDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
    }

    /// module name → the project modules its Swift files import.
    static func importGraph() throws -> [String: Set<String>] {
        let fm = FileManager.default
        var graph: [String: Set<String>] = [:]
        for module in try fm.contentsOfDirectory(atPath: sourcesDirectory.path) where layers[module] != nil {
            let dir = sourcesDirectory.appendingPathComponent(module)
            var imports: Set<String> = []
            let files = fm.enumerator(atPath: dir.path)?.compactMap { $0 as? String } ?? []
            for file in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n") {
                    let words = line.split(separator: " ").map(String.init)
                    guard let i = words.firstIndex(of: "import"), i + 1 < words.count,
                        words[..<i].allSatisfy({
                            ["public", "internal", "package", "private", "fileprivate", "@_exported", "@preconcurrency", "@testable"]
                                .contains($0)
                        })
                    else { continue }
                    let name = words[i + 1].split(separator: ".").first.map(String.init) ?? ""
                    if layers[name] != nil { imports.insert(name) }
                }
            }
            graph[module] = imports
        }
        return graph
    }

    func testModulesImportOnlyLowerLayers() throws {
        let graph = try Self.importGraph()
        XCTAssertGreaterThan(graph.count, 10, "the scan found too few modules under \(Self.sourcesDirectory.path)")
        for (module, imports) in graph {
            for dep in imports {
                let ok = Self.layers[dep]! < Self.layers[module]! || Self.sameLayerEdges.contains("\(module)->\(dep)")
                XCTAssertTrue(
                    ok,
                    "\(module) (layer \(Self.layers[module]!)) imports \(dep) (layer \(Self.layers[dep]!)): dependencies must point down")
            }
        }
    }

    func testEachCLibraryHasOneImporter() throws {
        let graph = try Self.importGraph()
        for (cModule, owner) in Self.cImporters {
            let importers = graph.filter { $0.value.contains(cModule) }.map(\.key).sorted()
            XCTAssertEqual(importers, [owner], "\(cModule) must be imported by \(owner) alone")
        }
    }

    /// A device ships only the runtime, the artifact reader and the agent.
    func testAgentDoesNotReachHostOnlyModules() throws {
        let graph = try Self.importGraph()
        var reached: Set<String> = []
        var stack = ["flotilla-agent"]
        while let m = stack.popLast() {
            for dep in graph[m] ?? [] where reached.insert(dep).inserted { stack.append(dep) }
        }
        XCTAssertNotNil(graph["flotilla-agent"], "the scan did not find the agent executable's sources")
        for hostOnly in ["ONNXProto", "ONNXImport", "Quantizer", "Coordinator"] {
            XCTAssertFalse(reached.contains(hostOnly), "flotilla-agent reaches \(hostOnly)")
        }
    }
}
