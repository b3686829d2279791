import Foundation

/// An installed command-line program (openssl, mosquitto, mosquitto_passwd) and a synchronous
/// way to run it to completion.
///
/// `run` blocks its thread until the program exits; async callers go through
/// `BlockingWork.run` so the cooperative pool is not held while openssl works.
struct CommandLineTool: Sendable {
    let name: String
    let url: URL

    /// Directories searched after $PATH: sbin is often missing from a test runner's PATH and
    /// that is where Debian installs the broker.
    static let fallbackDirectories = [
        "/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/opt/homebrew/sbin", "/opt/homebrew/bin",
    ]

    /// Finds `name` through `overrideVariable` (an absolute path), then $PATH, then the usual
    /// install directories.
    static func locate(_ name: String, overrideVariable: String? = nil, package: String) throws -> CommandLineTool {
        let environment = ProcessInfo.processInfo.environment
        let fm = FileManager.default
        if let overrideVariable, let path = environment[overrideVariable], !path.isEmpty {
            guard fm.isExecutableFile(atPath: path) else {
                throw MosquittoBrokerError(
                    .toolMissing,
                    "\(overrideVariable)=\(path) is not an executable file; point it at the \(name) binary or unset it")
            }
            return CommandLineTool(name: name, url: URL(fileURLWithPath: path))
        }
        let pathDirectories = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for directory in pathDirectories + fallbackDirectories {
            let candidate = (directory as NSString).appendingPathComponent(name)
            if fm.isExecutableFile(atPath: candidate) {
                return CommandLineTool(name: name, url: URL(fileURLWithPath: candidate))
            }
        }
        throw MosquittoBrokerError(
            .toolMissing,
            "\(name) was not found in $PATH nor in \(fallbackDirectories.joined(separator: ", ")); install it (Debian: apt-get install -y \(package))"
        )
    }

    /// Runs the tool to completion and returns what it printed (stdout then stderr).
    ///
    /// Output goes to temporary files rather than pipes: a pipe's write end can be inherited by
    /// a long-lived child started concurrently (a broker), which would delay end-of-file.
    @discardableResult
    func run(_ arguments: [String]) throws -> String {
        let fm = FileManager.default
        let stem = "flotilla-tool-\(name)-\(UUID().uuidString)"
        let outputURL = fm.temporaryDirectory.appendingPathComponent(stem + ".out")
        let errorURL = fm.temporaryDirectory.appendingPathComponent(stem + ".err")
        defer {
            try? fm.removeItem(at: outputURL)
            try? fm.removeItem(at: errorURL)
        }
        guard fm.createFile(atPath: outputURL.path, contents: nil), fm.createFile(atPath: errorURL.path, contents: nil),
            let output = FileHandle(forWritingAtPath: outputURL.path),
            let errors = FileHandle(forWritingAtPath: errorURL.path)
        else {
            throw MosquittoBrokerError(
                .fileSystem,
                "cannot create output files for \(name) in \(fm.temporaryDirectory.path); check that TMPDIR is writable")
        }
        defer {
            try? output.close()
            try? errors.close()
        }
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors
        do {
            try ChildProcess.launch(process)
        } catch {
            throw MosquittoBrokerError(.toolFailed, "cannot launch \(url.path): \(error); check that it is executable")
        }
        process.waitForExit()
        let printed =
            (String(data: (try? Data(contentsOf: outputURL)) ?? Data(), encoding: .utf8) ?? "")
            + (String(data: (try? Data(contentsOf: errorURL)) ?? Data(), encoding: .utf8) ?? "")
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let how =
                process.terminationReason == .exit
                ? "exited with status \(process.terminationStatus)" : "was killed by signal \(process.terminationStatus)"
            throw MosquittoBrokerError(
                .toolFailed,
                "`\(name) \(arguments.joined(separator: " "))` \(how): \(printed.trimmingCharacters(in: .whitespacesAndNewlines))"
            )
        }
        return printed
    }
}

/// Runs blocking work (process launches and waits, openssl) on a Dispatch thread so it never
/// occupies one of the few threads of Swift's cooperative pool.
enum BlockingWork {
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}
