import Foundation

/// Where a test broker keeps its files, all inside its private directory.
struct BrokerFiles: Sendable {
    let directory: URL

    /// The config mosquitto is started with; its path in the command line is what
    /// `pkill -f flotilla-test-broker` matches.
    var config: URL { directory.appendingPathComponent("mosquitto.conf") }
    /// mosquitto's own log (`log_dest file`).
    var log: URL { directory.appendingPathComponent("mosquitto.log") }
    /// The process's stdout and stderr: what mosquitto prints before its log file is open
    /// (config errors) and the warning about running as root.
    var console: URL { directory.appendingPathComponent("console.log") }
    var passwords: URL { directory.appendingPathComponent("passwords") }
    var acl: URL { directory.appendingPathComponent("acl") }
    var persistence: URL { directory.appendingPathComponent("persistence", isDirectory: true) }
    var certificates: URL { directory.appendingPathComponent("certificates", isDirectory: true) }

    /// Prefix of every broker directory, searched for by CI cleanup.
    static let directoryPrefix = "flotilla-test-broker-"

    /// Creates a fresh, uniquely named directory under the system temporary directory.
    static func makeDirectory() throws -> BrokerFiles {
        let base = FileManager.default.temporaryDirectory
        let url = base.appendingPathComponent(directoryPrefix + UUID().uuidString.prefix(12).lowercased(), isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
        } catch {
            throw MosquittoBrokerError(
                .fileSystem, "cannot create broker directory \(url.path): \(error); check that TMPDIR (\(base.path)) is writable")
        }
        return BrokerFiles(directory: url)
    }

    /// The bytes appended to `url` after `offset`, as text (empty if the file does not exist).
    static func text(of url: URL, from offset: UInt64 = 0) -> String {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return "" }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: offset)) != nil, let data = try? handle.readToEnd() else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    static func size(of url: URL) -> UInt64 {
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        return (attributes?[.size] as? NSNumber)?.uint64Value ?? 0
    }
}
