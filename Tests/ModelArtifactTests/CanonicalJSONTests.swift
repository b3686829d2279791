import XCTest

@testable import ModelArtifact

/// The canonical JSON the text sections use: one spelling per value, strict parsing.
final class CanonicalJSONTests: XCTestCase {
    func text(_ v: JSONValue) -> String { String(decoding: v.canonicalBytes, as: UTF8.self) }

    func parse(_ s: String) throws -> JSONValue {
        try Array(s.utf8).withUnsafeBytes { try JSONParser.parse($0, section: "test") }
    }

    func testKeysAreSortedByUTF8AndNothingIsPadded() {
        let v = JSONValue.object(["b": .int(1), "a": .array([.bool(true), .null]), "Z": .string("x"), "é": .int(-3)])
        XCTAssertEqual(text(v), #"{"Z":"x","a":[true,null],"b":1,"é":-3}"#)
    }

    func testStringsEscapeOnlyQuotesBackslashesAndControls() {
        XCTAssertEqual(text(.string("a\"b\\c\n\u{1}ü")), #""a\"b\\c\u000a\u0001ü""#)
    }

    func testFloatsAreShortestRoundTripStrings() throws {
        let values: [Float] = [0.1, 1e-7, -0.0, 3.4028235e38, 1.0, .infinity, -.infinity, Float.leastNonzeroMagnitude]
        for v in values {
            let s = CanonicalFloat.text(v)
            XCTAssertEqual(CanonicalFloat.float(s)?.bitPattern, v.bitPattern, "\(v) → \(s)")
        }
        XCTAssertEqual(CanonicalFloat.text(Float(0.1)), "0.1")
        XCTAssertEqual(CanonicalFloat.text(Float.nan), "nan")
        XCTAssertNil(CanonicalFloat.float("0.10"), "non-canonical spellings are refused")
        XCTAssertNil(CanonicalFloat.float("1E-7"))
        XCTAssertEqual(CanonicalFloat.double("0.91"), 0.91)
    }

    func testParserRoundTripsItsOwnOutput() throws {
        let v = JSONValue.object([
            "n": .int(Int64.min), "u": .uint(UInt64.max), "s": .string("tab\tquote\"€"), "a": .array([.object([:]), .array([])]),
        ])
        XCTAssertEqual(try parse(text(v)), v)
    }

    func testParserRefusesWhatTheFormatForbids() {
        let bad = [
            #"{"a":1.5}"#, #"{"a":1e3}"#, #"{"a":1,"a":2}"#, #"[01]"#, #"[1,]"#, #"{"a":"\x"}"#, "[\"\u{1}\"]",
            #"[18446744073709551616]"#, #"[-9223372036854775809]"#, #"["\ud800"]"#, "[1] x", "", "[",
        ]
        for s in bad {
            XCTAssertThrowsError(try parse(s), s) { error in
                guard case .malformedJSON = error as? ArtifactError else { return XCTFail("\(s): \(error)") }
            }
        }
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        XCTAssertThrowsError(try parse(deep))
        XCTAssertThrowsError(try [0xFF, 0x22].withUnsafeBytes { try JSONParser.parse($0, section: "t") })
        XCTAssertThrowsError(
            try Array("[\"\u{FF}\"]".utf8.dropFirst(0)).withUnsafeBytes { raw -> JSONValue in
                var b = Array(raw)
                b[2] = 0xC3  // truncated two-byte sequence before the closing quote
                b.remove(at: 3)
                return try b.withUnsafeBytes { try JSONParser.parse($0, section: "t") }
            })
    }
}
