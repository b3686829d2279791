import Coordinator
import XCTest

final class StoreLabelSelectorTests: XCTestCase {
    func parse(_ text: String) throws -> [LabelSelector.Requirement] {
        try LabelSelector(parsing: text).requirements
    }

    func testParsesEveryForm() throws {
        XCTAssertEqual(try parse(""), [])
        XCTAssertEqual(try parse("   "), [])
        XCTAssertEqual(try parse("site=lab"), [.equals(key: "site", value: "lab")])
        XCTAssertEqual(try parse("site == lab"), [.equals(key: "site", value: "lab")])
        XCTAssertEqual(try parse("site!=lab"), [.notEquals(key: "site", value: "lab")])
        XCTAssertEqual(try parse("site="), [.equals(key: "site", value: "")])
        XCTAssertEqual(try parse("site in (lab, field)"), [.in(key: "site", values: ["lab", "field"])])
        XCTAssertEqual(try parse("site in(lab)"), [.in(key: "site", values: ["lab"])])
        XCTAssertEqual(try parse("site notin (a,b,a)"), [.notIn(key: "site", values: ["a", "b"])])
        XCTAssertEqual(try parse("canary"), [.exists(key: "canary")])
        XCTAssertEqual(try parse("! canary"), [.doesNotExist(key: "canary")])
        XCTAssertEqual(try parse("example.com/tier=gold"), [.equals(key: "example.com/tier", value: "gold")])
        XCTAssertEqual(
            try parse(" class=x86-avx2 , site in (a,b),!beta,ring!=0 "),
            [
                .equals(key: "class", value: "x86-avx2"), .in(key: "site", values: ["a", "b"]), .doesNotExist(key: "beta"),
                .notEquals(key: "ring", value: "0"),
            ])
    }

    func testDescriptionRoundTrips() throws {
        for text in ["", "a=b", "a!=b", "a in (x,y)", "a notin (x)", "a", "!a", "class=k,id in (d1,d2),!z"] {
            let selector = try LabelSelector(parsing: text)
            XCTAssertEqual(try LabelSelector(parsing: selector.description), selector, text)
        }
        XCTAssertEqual(try LabelSelector(parsing: "b in (y, x)").description, "b in (x,y)")
    }

    func testErrorsNameTheOffendingTerm() {
        let cases: [(String, String, String)] = [
            ("site=lab,,ring=0", "site=lab,,ring=0", "empty requirement"),
            ("site=lab,", "site=lab,", "empty requirement"),
            ("site=lab, ring >> 3", "ring >> 3", "unknown operator"),
            ("site in (a,b", "site in (a,b", "never closed"),
            ("site in a,b", "site in a", "parentheses"),
            ("site in (a,,b)", "site in (a,,b)", "empty value"),
            ("site in ()", "site in ()", "empty value"),
            ("=lab", "=lab", "missing label key"),
            ("!=lab", "!=lab", "missing label key"),
            ("site=l a b", "site=l a b", "value 'l a b'"),
            ("site=-lab", "site=-lab", "value '-lab'"),
            ("bad key=1", "bad key=1", "unknown operator"),
            ("Bad_Prefix.com/k=1", "Bad_Prefix.com/k=1", "DNS subdomain"),
            ("a/b/c", "a/b/c", "more than one '/'"),
            ("\(String(repeating: "k", count: 64))=1", "\(String(repeating: "k", count: 64))=1", "1–63"),
            ("a) in (b", "a)", "without a matching"),
            ("site isnt (a)", "site isnt (a)", "unknown operator"),
            ("!", "!", "empty label key"),
        ]
        for (text, term, detail) in cases {
            XCTAssertThrowsError(try LabelSelector(parsing: text), text) { error in
                guard let error = error as? LabelSelectorError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.term, term, text)
                XCTAssertTrue(error.detail.contains(detail), "\(text): \(error.detail)")
                XCTAssertTrue(error.description.contains("'\(term)'"), error.description)
            }
        }
    }

    func testSemanticsFollowKubernetes() throws {
        let labels = ["site": "lab", "ring": "0"]
        func matches(_ text: String) throws -> Bool { try LabelSelector(parsing: text).matches { labels[$0] } }
        XCTAssertTrue(try matches(""))
        XCTAssertTrue(try matches("site=lab,ring"))
        XCTAssertFalse(try matches("site=field"))
        XCTAssertTrue(try matches("absent!=x"))  // a missing key satisfies !=
        XCTAssertTrue(try matches("absent notin (x)"))  // and notin
        XCTAssertFalse(try matches("absent in (x)"))
        XCTAssertFalse(try matches("absent="))  // = needs the key, even for the empty value
        XCTAssertFalse(try matches("!site"))
        XCTAssertTrue(try matches("!absent"))
    }

    func testPseudoLabelsReadDeviceFields() throws {
        let device = DeviceRecord(id: "dev-7", hardwareClass: "arm-dot", labels: ["site": "lab"], firstSeenMs: 0, lastSeenMs: 0)
        XCTAssertTrue(try LabelSelector(parsing: "class=arm-dot,id=dev-7,site=lab").matches(device))
        XCTAssertFalse(try LabelSelector(parsing: "class in (x86-avx2)").matches(device))
        XCTAssertTrue(try LabelSelector(parsing: "class,id").matches(device))
    }
}
