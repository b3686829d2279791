public import Foundation

/// A fresh directory under the system temporary directory, named `<prefix>-<pid>-<random>` so
/// parallel test processes and repeated runs never share one; the caller removes it. The name
/// stays short (no UUID): agents bind Unix sockets inside these directories, and a socket path
/// has room for only 107 bytes.
public func makeTemporaryDirectory(_ prefix: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
        "\(prefix)-\(ProcessInfo.processInfo.processIdentifier)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
