import Foundation

/// Every path under a root with its mode, and a file's bytes or a symlink's target: two
/// snapshots are equal when an install changed nothing.
struct TreeSnapshot: Equatable {
    struct Entry: Equatable {
        var mode: Int
        var content: Data?
        var linkTarget: String?
    }

    var entries: [String: Entry] = [:]

    init(root: URL) throws {
        let fm = FileManager.default
        let paths = fm.enumerator(atPath: root.path)?.compactMap { $0 as? String } ?? []
        for path in paths {
            let full = root.appendingPathComponent(path).path
            let attributes = try fm.attributesOfItem(atPath: full)
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
            switch attributes[.type] as? FileAttributeType {
            case .typeSymbolicLink?:
                entries[path] = Entry(mode: mode, content: nil, linkTarget: try fm.destinationOfSymbolicLink(atPath: full))
            case .typeRegular?: entries[path] = Entry(mode: mode, content: fm.contents(atPath: full), linkTarget: nil)
            default: entries[path] = Entry(mode: mode, content: nil, linkTarget: nil)
            }
        }
    }

    func mode(_ path: String) -> Int? { entries[path]?.mode }
}
