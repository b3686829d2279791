import Agent
import Foundation
import XCTest

/// docs/agent.md draws the update state machine; this keeps the drawing and the table equal.
final class AgentDocsTests: XCTestCase {
    static var docURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/agent.md")
    }

    /// The mermaid lines the table implies, sorted: paste these into docs/agent.md when the
    /// table changes (the failure message prints them).
    static var expectedLines: [String] {
        UpdateStateMachine.transitions.map { t, guardText in
            "    \(t.from.rawValue) --> \(t.to.rawValue) : \(t.event.rawValue)" + (guardText.isEmpty ? "" : " [\(guardText)]")
        }.sorted()
    }

    func testDiagramListsExactlyTheTableTransitions() throws {
        let text = try String(contentsOf: Self.docURL, encoding: .utf8)
        guard let start = text.range(of: "```mermaid\nstateDiagram-v2\n"),
            let end = text.range(of: "```", range: start.upperBound..<text.endIndex)
        else { return XCTFail("docs/agent.md has no mermaid stateDiagram-v2 block") }
        let lines = text[start.upperBound..<end.lowerBound].split(separator: "\n").map(String.init).filter {
            $0.contains(" --> ") && !$0.contains("[*]")
        }
        XCTAssertEqual(
            lines.sorted(), Self.expectedLines,
            "docs/agent.md drifted from the table; expected:\n\(Self.expectedLines.joined(separator: "\n"))")
    }
}
