import ModelIR
import XCTest

final class GraphTests: XCTestCase {
    func chain() -> Graph {
        Graph(
            nodes: [node("b", "Relu", ["t"], ["u"]), node("a", "Neg", ["x"], ["t"]), node("c", "Add", ["u", "t"], ["y"])],
            inputs: [f32("x", [2])], outputs: [f32("y", [2])])
    }

    func testTopologicalSortAndQueries() throws {
        var g = chain()
        try g.sortTopologically()
        XCTAssertEqual(g.nodes.map(\.name), ["a", "b", "c"])
        XCTAssertEqual(g.producer(of: "t"), 0)
        XCTAssertEqual(g.consumers(of: "t"), [1, 2])
        XCTAssertNil(g.producer(of: "x"))
        XCTAssertNoThrow(try g.validate())
    }

    func testCycleNamesItsNodes() {
        let g = Graph(
            nodes: [node("p", "Relu", ["x"], ["a"]), node("q", "Add", ["a", "c"], ["b"]), node("r", "Neg", ["b"], ["c"])],
            inputs: [f32("x", [1])], outputs: [f32("b", [1])])
        XCTAssertThrowsError(try g.topologicallySortedNodes()) { e in
            guard case ModelIRError.cycle(let nodes) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(Set(nodes), ["q", "r"])
            XCTAssertTrue("\(e)".contains("'q'"))
        }
    }

    func testValidationErrors() {
        var dup = chain()
        dup.nodes.append(node("d", "Neg", ["x"], ["u"]))
        XCTAssertThrowsError(try dup.validate()) { e in
            XCTAssertEqual(e as? ModelIRError, .duplicateDefinition(value: "u", definedBy: ["node 'b'", "node 'd'"]))
        }
        var undefined = chain()
        undefined.nodes[0].inputs = ["missing"]
        XCTAssertThrowsError(try undefined.validate()) { e in
            XCTAssertEqual(e as? ModelIRError, .undefinedValue(value: "missing", node: "b"))
        }
        var badOut = chain()
        badOut.outputs.append(f32("nowhere", [1]))
        XCTAssertThrowsError(try badOut.validate()) { e in XCTAssertEqual(e as? ModelIRError, .graphOutputUndefined("nowhere")) }
    }

    func testSubgraphCapturesAndRename() throws {
        let body = Graph(name: "then", nodes: [node("inner", "Neg", ["t"], ["o"])], outputs: [f32("o", [2])])
        var g = Graph(
            nodes: [
                node("a", "Neg", ["x"], ["t"]),
                node("if", "If", ["cond"], ["y"], ["then_branch": .graph(body), "else_branch": .graph(body)]),
            ],
            inputs: [f32("x", [2]), ValueInfo("cond", TensorType(.bool, []))], outputs: [f32("y", [2])])
        XCTAssertEqual(g.consumers(of: "t"), [1])
        XCTAssertNoThrow(try g.validate())
        g.renameValue("t", to: "t2")
        XCTAssertEqual(g.nodes[0].outputs, ["t2"])
        XCTAssertEqual(g.nodes[1].attributes["then_branch"]?.graphValue?.nodes[0].inputs, ["t2"])
    }
}
