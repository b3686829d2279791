#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// One version of one file as `stat(2)` tells it apart: the same inode with the same size and
/// modification and change times. A file whose bytes were checked at one version can skip a
/// second full read while it still has that version; any write, truncate or replacement moves
/// the times (or the inode) and forces the check again.
public struct FileVersion: Sendable, Hashable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int
    public var modifiedNs: Int64
    public var changedNs: Int64

    public init(device: UInt64, inode: UInt64, size: Int, modifiedNs: Int64, changedNs: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modifiedNs = modifiedNs
        self.changedNs = changedNs
    }

    /// The version of the file at `path` now, or nil when it cannot be stat'ed.
    public static func of(path: String) -> FileVersion? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileVersion(info)
    }

    /// The version of the file open on `descriptor` now, or nil when it cannot be stat'ed.
    public static func of(descriptor: Int32) -> FileVersion? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        return FileVersion(info)
    }

    init(_ info: stat) {
        self.init(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int(info.st_size),
            modifiedNs: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            changedNs: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec))
    }
}
