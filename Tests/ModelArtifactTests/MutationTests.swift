import Foundation
import TestSupport
import XCTest

@testable import ModelArtifact

/// Damaged and hostile files: every one is refused with an ArtifactError, never a crash.
final class MutationTests: XCTestCase {
    enum Outcome { case accepted, refused }

    /// Read as a device does: a signature from the pinned key is required.
    func outcome(_ bytes: [UInt8], key: ArtifactPublicKey) -> Outcome {
        do {
            _ = try ArtifactReader.read(bytes: bytes, trust: .pinnedKeys([key]))
            return .accepted
        } catch {
            // `read` throws only ArtifactError (typed throws): no other outcome exists but a crash.
            return .refused
        }
    }

    /// ≥ 2000 seeded byte-level mutations. Every byte of the file is covered by the header digest
    /// or a section digest (padding must be zero), so none may be accepted.
    func testByteMutationsAreAllRefused() throws {
        let key = ArtifactSigningKey.generate()
        let original = try TestArtifacts.write(signingKey: key)
        let layout = try original.withUnsafeBytes { try ArtifactLayout.parse($0) }
        var rng = SplitMix64(seed: 2024)
        var counts: [String: Int] = [:]
        var accepted: [String] = []

        func check(_ bytes: [UInt8], _ what: String) {
            counts[what.split(separator: " ").first.map(String.init) ?? what, default: 0] += 1
            if outcome(bytes, key: key.publicKey) == .accepted { accepted.append(what) }
        }
        // Flipped bytes inside each section, and in the header and table.
        let regions = [("header", 0, 64), ("table", 64, layout.tableEnd - 64)] + layout.entries.map { ($0.name, $0.offset, $0.length) }
        for (name, start, length) in regions where length > 0 {
            for _ in 0..<150 {
                var m = original
                let i = start + rng.int(0..<length)
                m[i] ^= UInt8(1 << rng.int(0..<8))
                check(m, "flip \(name) @\(i)")
            }
        }
        // Truncations anywhere, and appended bytes.
        for _ in 0..<300 { check(Array(original.prefix(rng.int(0..<original.count))), "truncate") }
        for n in 1...20 { check(original + [UInt8](repeating: 0, count: n), "append") }
        // Inflated or wrapped offsets and lengths in the table (header digest left stale and
        // also recomputed, so the layout checks themselves are exercised).
        for _ in 0..<400 {
            var m = original
            let entry = rng.int(0..<layout.entries.count)
            let field = 64 + entry * 64 + (rng.int(0..<2) == 0 ? 8 : 16)
            let value: UInt64 = [
                UInt64.max, UInt64.max - 7, UInt64(original.count), UInt64(original.count + 64), rng.next() % 4096, 1 << 62,
            ][rng.int(0..<6)]
            withUnsafeBytes(of: value.littleEndian) { m.replaceSubrange(field..<(field + 8), with: $0) }
            if rng.int(0..<2) == 0 { Self.resealHeader(&m) }
            check(m, "table-field")
        }
        // Random garbage with a valid magic and version.
        for _ in 0..<200 {
            var m = ArtifactFormat.magic + [1, 0, 0, 0] + rng.bytes(rng.int(0..<600))
            if m.count >= 64 { Self.resealHeader(&m) }
            check(m, "garbage")
        }
        let total = counts.values.reduce(0, +)
        XCTAssertGreaterThanOrEqual(total, 2000)
        XCTAssertEqual(accepted, [], "mutations that went unnoticed")
        print(
            "mutations: \(total) (\(counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))), \(accepted.count) accepted"
        )
    }

    /// Structure-aware mutations that keep every digest valid (re-assembled through the writer's
    /// own assembly), so the reader's content checks are what must catch them.
    func testResealedContentMutationsAreRefusedByContentChecks() throws {
        let sections = try TestArtifacts.sections(of: TestArtifacts.write())
        func graphText() -> String { String(decoding: sections.first { $0.0 == .graph }?.1 ?? [], as: UTF8.self) }
        func with(_ kind: SectionKind, _ bytes: [UInt8]) throws -> [UInt8] {
            try ArtifactWriter.assemble(sections.map { $0.0 == kind ? (kind, bytes) : $0 }, signingKey: nil)
        }
        func graph(_ transform: (String) -> String) throws -> [UInt8] {
            let text = graphText()
            let mutated = transform(text)
            XCTAssertNotEqual(mutated, text, "the mutation applies")
            return try with(.graph, Array(mutated.utf8))
        }
        func manifest(_ transform: (String) -> String) throws -> [UInt8] {
            let text = String(decoding: sections[0].1, as: UTF8.self)
            let mutated = transform(text)
            XCTAssertNotEqual(mutated, text, "the mutation applies")
            return try with(.manifest, Array(mutated.utf8))
        }
        let cases: [(String, [UInt8])] = [
            ("huge dim", try graph { $0.replacingOccurrences(of: #""shape":[3,4]"#, with: #""shape":[4611686018427387904,4]"#) }),
            ("overflowing dims", try graph { $0.replacingOccurrences(of: #""shape":[3,4]"#, with: #""shape":[4294967296,4294967296,4]"#) }),
            ("negative dim", try graph { $0.replacingOccurrences(of: #""shape":[3,4]"#, with: #""shape":[-3,4]"#) }),
            ("length mismatch", try graph { $0.replacingOccurrences(of: #""length":12"#, with: #""length":13"#) }),
            ("offset out of bounds", try graph { $0.replacingOccurrences(of: #""offset":0"#, with: #""offset":1048576"#) }),
            ("misaligned offset", try graph { $0.replacingOccurrences(of: #""offset":64"#, with: #""offset":65"#) }),
            ("unknown element type", try graph { $0.replacingOccurrences(of: #""elementType":"int32""#, with: #""elementType":"int31""#) }),
            (
                "undefined value",
                try graph { $0.replacingOccurrences(of: #""inputs":["x","w","bias"]"#, with: #""inputs":["x","w","nobody"]"#) }
            ),
            ("bad float", try graph { $0.replacingOccurrences(of: #""float":"1.5""#, with: #""float":"1.50""#) }),
            ("json float", try graph { $0.replacingOccurrences(of: #""float":"1.5""#, with: #""float":1.5"#) }),
            ("bad zero point", try graph { $0.replacingOccurrences(of: #""zeroPoints":[0,0,0]"#, with: #""zeroPoints":[0,0,900]"#) }),
            ("unknown attribute kind", try graph { $0.replacingOccurrences(of: #"{"int":1}"#, with: #"{"bigint":1}"#) }),
            ("deep nesting", try with(.graph, Array((String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)).utf8))),
            ("not json", try with(.graph, [0xFF, 0xFE])),
            ("manifest lies about inputs", try manifest { $0.replacingOccurrences(of: #""name":"flag""#, with: #""name":"flog""#) }),
            (
                "manifest lies about weight bytes",
                try manifest { $0.replacingOccurrences(of: #""totalWeightBytes":153"#, with: #""totalWeightBytes":1"#) }
            ),
            ("weights section cut short", try with(.weights, Array((sections.first { $0.0 == .weights }?.1 ?? []).prefix(64)))),
            ("validation without data", try ArtifactWriter.assemble(sections.filter { $0.0 != .validationData }, signingKey: nil)),
            ("no graph", try ArtifactWriter.assemble(sections.filter { $0.0 != .graph }, signingKey: nil)),
        ]
        for (name, bytes) in cases {
            if (try? ArtifactReader.read(bytes: bytes, trust: .skipSignatureCheck)) != nil { XCTFail("\(name) was accepted") }
            guard let error = artifactError({ try ArtifactReader.read(bytes: bytes, trust: .skipSignatureCheck) }) else { continue }
            switch (name, error) {
            case ("deep nesting", .malformedJSON), ("not json", .malformedJSON), ("json float", .malformedJSON): break
            case ("manifest lies about inputs", .manifestMismatch(field: "inputs", _)): break
            case ("manifest lies about weight bytes", .manifestMismatch(field: "totalWeightBytes", _)): break
            case ("validation without data", .missingSection("validation data")), ("no graph", .missingSection("graph")): break
            case (_, .invalidContent(section: "graph", _, _)) where !name.hasPrefix("manifest") && name != "validation without data": break
            default: XCTFail("\(name): unexpected \(error)")
            }
        }
    }

    func testUnknownMajorVersionIsRefusedBeforeAnythingElse() throws {
        var bytes = try TestArtifacts.write()
        bytes[8] = 2  // major version 2, header digest now stale: the version check comes first
        XCTAssertEqual(
            artifactError { try ArtifactReader.read(bytes: bytes, trust: .skipSignatureCheck) },
            .unsupportedVersion(major: 2, minor: 0, supportedMajor: 1))
        let foreign = Array("PK\u{3}\u{4}not an artifact at all".utf8)
        guard case .notAnArtifact = artifactError({ try ArtifactReader.read(bytes: foreign, trust: .skipSignatureCheck) }) else {
            return XCTFail()
        }
        guard case .notAnArtifact = artifactError({ try ArtifactReader.read(bytes: [], trust: .skipSignatureCheck) }) else {
            return XCTFail()
        }
    }

    /// Recomputes the header digest after editing header or table fields.
    static func resealHeader(_ bytes: inout [UInt8]) {
        let count = bytes.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 16, as: UInt32.self))) }
        let tableEnd = 64 + count * 64
        guard count <= ArtifactFormat.maxSections, tableEnd <= bytes.count else { return }
        let digest = SHA256Digest.of(Array(bytes[0..<32]) + Array(bytes[64..<tableEnd]))
        bytes.replaceSubrange(32..<64, with: digest)
    }
}
