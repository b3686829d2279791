import ArgumentParser
import Coordinator
import Foundation

/// `backup`: an online backup of the data directory; the coordinator keeps running.
struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a consistent backup of the coordinator's database, signing keys and artifacts (see docs/operations.md).")
    @Option(help: "The coordinator's JSON configuration file.") var config: String
    @Option(help: "The backup file to write (a tar archive, mode 0600; it must not exist).") var to: String

    func run() throws {
        let config = try CoordinatorConfigFile.load(URL(fileURLWithPath: config))
        let store = try SQLiteStore.openForBackup(dataDirectory: config.dataDirectory)
        defer { try? store.close() }
        let manifest = try CoordinatorBackup.create(store: store, dataDirectory: config.dataDirectory, to: URL(fileURLWithPath: to))
        print("backed up \(manifest.summary) to \(to)")
    }
}

/// `restore`: puts a backup in place of the data directory; run it with the coordinator stopped.
struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restore a backup into the data directory (stop the coordinator first; see docs/operations.md).")
    @Option(help: "The coordinator's JSON configuration file (its dataDirectory is restored).") var config: String
    @Option(help: "The backup file written by `backup`.") var from: String
    @Flag(help: "Replace a data directory that holds a database (it is kept as <dir>.before-restore-<time>).") var replace = false

    func run() throws {
        let config = try CoordinatorConfigFile.load(URL(fileURLWithPath: config))
        let manifest = try CoordinatorBackup.restore(from: URL(fileURLWithPath: from), to: config.dataDirectory, replace: replace)
        print("restored \(manifest.summary) into \(config.dataDirectory.path)")
    }
}
