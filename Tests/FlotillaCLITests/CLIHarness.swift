import Foundation
import XCTest

/// Runs the built `flotilla` binary and reads the fixtures.
///
/// The binary is found next to the test executable: SwiftPM puts every product of a build in
/// one directory (`.build/<triple>/debug/` holds `flotilla` and `flotillaPackageTests.xctest`),
/// and the test target depends on `flotilla`, so it is built first. `FLOTILLA_BIN` overrides.
enum CLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures")

    static func binary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["FLOTILLA_BIN"] { return URL(fileURLWithPath: path) }
        var directories: [URL] = []
        if let exe = Bundle.main.executableURL { directories.append(exe.deletingLastPathComponent()) }
        directories.append(Bundle.main.bundleURL)
        directories.append(Bundle.main.bundleURL.deletingLastPathComponent())
        directories.append(packageRoot.appendingPathComponent(".build/debug"))
        for d in directories {
            let candidate = d.appendingPathComponent("flotilla")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw XCTSkip("flotilla binary not found in \(directories.map(\.path)); build it or set FLOTILLA_BIN")
    }

    /// Runs `flotilla args...` in the fixtures directory; stdout/stderr go through files so a
    /// chatty process cannot block on a full pipe.
    @discardableResult
    static func run(_ args: [String], in directory: URL = fixtures) throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("flotilla-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("stdout"), err = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = try binary()
        process.arguments = args
        process.currentDirectoryURL = directory
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            stdout: String(decoding: try Data(contentsOf: out), as: UTF8.self),
            stderr: String(decoding: try Data(contentsOf: err), as: UTF8.self))
    }

    /// Runs and parses stdout as a JSON object, failing the test with stderr when it is not.
    static func json(_ args: [String]) throws -> [String: Any] {
        let r = try run(args)
        XCTAssertEqual(r.status, 0, "flotilla \(args.joined(separator: " ")) failed: \(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8))
        return try XCTUnwrap(object as? [String: Any], "not a JSON object: \(r.stdout.prefix(300))")
    }

    static func manifestEntry(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("manifest.json"))
        let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let models = try XCTUnwrap(manifest["models"] as? [[String: Any]])
        return try XCTUnwrap(models.first { $0["name"] as? String == name }, "no fixture \(name)")
    }
}
