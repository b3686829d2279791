import Foundation

/// Packs a bundle with the system `tar`, so the device needs nothing but `tar -xzpf` to install.
enum Tarball {
    static let searchPath = ["/usr/bin/tar", "/bin/tar", "/usr/local/bin/tar", "/opt/homebrew/bin/gtar"]

    /// `tar -czf archive -C directory member`, owned by root in the archive (the files are
    /// root's on the device; the provisioning user's uid means nothing there). Modes are kept,
    /// so the key stays 0600 when unpacked with -p. Only `member` (e.g. `etc/flotilla`) is
    /// packed, not `.` or `etc`: unpacking at / must not reset the mode or times of / or /etc.
    static func create(_ archive: URL, from directory: URL, member: String) throws(PKIError) {
        guard let tar = searchPath.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw .toolFailed(
                tool: "tar", detail: "not found in \(searchPath.joined(separator: ", ")); install it (Debian: apt-get install tar)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tar)
        process.arguments = ["--owner=0", "--group=0", "--numeric-owner", "-czf", archive.path, "-C", directory.path, member]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch { throw .toolFailed(tool: tar, detail: "cannot start: \(error)") }
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw .toolFailed(tool: tar, detail: "exit \(process.terminationStatus): \(String(decoding: message, as: UTF8.self))")
        }
    }
}
