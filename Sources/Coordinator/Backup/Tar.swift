import Foundation

/// The system `tar` (GNU or bsdtar, both read and write the ustar/pax archives used here): the
/// archive stays inspectable with standard tools (`tar -tvf backup.tar`).
enum Tar {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["tar"] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch { throw Failure(description: "cannot run tar: \(error.localizedDescription); install tar") }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw Failure(description: "tar exited with \(process.terminationStatus): \(text)")
        }
    }

    /// The member names of `archive`, one per line of `tar -tf`.
    static func list(_ archive: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["tar", "-tf", archive]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { throw Failure(description: "cannot run tar: \(error.localizedDescription); install tar") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failure(description: "tar cannot read it (exit \(process.terminationStatus))") }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
