#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// The few POSIX file calls the file helpers need, with errno turned into `ZstdError` naming
/// the path. Plain read/write on a descriptor: no buffering of our own, so the helpers' one
/// fixed buffer really is the only copy of the data in memory.
final class PosixFile {
    let path: String
    private var descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        if descriptor >= 0 { _ = systemClose(descriptor) }
    }

    static func openForReading(_ path: String) throws(ZstdError) -> PosixFile {
        let fd = retryingOnInterrupt { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw .fileOperationFailed(path: path, operation: "open for reading", errno: errno) }
        return PosixFile(path: path, descriptor: fd)
    }

    /// Creates (or truncates) `path` for writing, readable by everyone, writable by the owner.
    static func create(_ path: String) throws(ZstdError) -> PosixFile {
        let fd = retryingOnInterrupt { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        guard fd >= 0 else { throw .fileOperationFailed(path: path, operation: "create", errno: errno) }
        return PosixFile(path: path, descriptor: fd)
    }

    /// The size of a regular file, or nil for pipes, devices and the like.
    func regularFileSize() throws(ZstdError) -> Int? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw .fileOperationFailed(path: path, operation: "stat", errno: errno)
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(info.st_size)
    }

    /// Reads up to `buffer.count` bytes; 0 means end of file.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ZstdError) -> Int {
        let count = retryingOnInterrupt { systemRead(descriptor, buffer.baseAddress, buffer.count) }
        guard count >= 0 else { throw .fileOperationFailed(path: path, operation: "read", errno: errno) }
        return count
    }

    /// Writes all of `bytes`, looping over short writes.
    func write(_ bytes: UnsafeRawBufferPointer) throws(ZstdError) {
        var offset = 0
        while offset < bytes.count, let base = bytes.baseAddress {
            let count = retryingOnInterrupt { systemWrite(descriptor, base + offset, bytes.count - offset) }
            guard count > 0 else {
                throw .fileOperationFailed(path: path, operation: "write", errno: count < 0 ? errno : EIO)
            }
            offset += count
        }
    }

    /// Forces the written bytes to the disk (fsync): before a rename publishes the file, so a
    /// power cut cannot leave the final name pointing at a short or empty file.
    func sync() throws(ZstdError) {
        guard retryingOnInterrupt({ systemFsync(descriptor) }) == 0 else {
            throw .fileOperationFailed(path: path, operation: "fsync", errno: errno)
        }
    }

    /// Closes and reports a failed close: for a file just written it can be the first sign
    /// that the data did not reach the disk (NFS, full quota).
    func close() throws(ZstdError) {
        guard descriptor >= 0 else { return }
        let fd = descriptor
        descriptor = -1
        guard systemClose(fd) == 0 else { throw .fileOperationFailed(path: path, operation: "close", errno: errno) }
    }

    static func rename(_ from: String, to: String) throws(ZstdError) {
        guard systemRename(from, to) == 0 else {
            throw .fileOperationFailed(path: to, operation: "rename '\(from)' to", errno: errno)
        }
    }

    static func removeIfPresent(_ path: String) {
        _ = unlink(path)
    }

    static var processID: Int32 { getpid() }
}

private func retryingOnInterrupt<T: BinaryInteger>(_ call: () -> T) -> T {
    while true {
        let result = call()
        if result >= 0 || errno != EINTR { return result }
    }
}

// The C functions share names with this file's methods; these aliases keep calls unambiguous.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }
private func systemClose(_ fd: Int32) -> Int32 { close(fd) }
private func systemFsync(_ fd: Int32) -> Int32 { fsync(fd) }
private func systemRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }
