import Foundation
import XCTest

/// Runs a command of the deploy tooling (a script, systemd-analyze) and keeps what it printed.
struct DeployCommand {
    var status: Int32
    var stdout: String
    var stderr: String
    var output: String { stdout + stderr }

    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `executable` is a path, or a name looked up in PATH.
    static func run(_ executable: String, _ arguments: [String]) throws -> DeployCommand {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both to the end before waiting so a full pipe cannot block the child.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return DeployCommand(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    static func which(_ name: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let path = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Writes an executable shell script standing in for a built binary.
    static func writeDummyBinary(_ name: String, in directory: URL) throws {
        let url = directory.appendingPathComponent(name)
        try "#!/bin/sh\necho \(name)\n".write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
    }
}
