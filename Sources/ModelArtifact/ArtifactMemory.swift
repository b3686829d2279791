#if canImport(Glibc)
    internal import Glibc
#elseif canImport(Darwin)
    internal import Darwin
#endif

/// The bytes of one artifact: a read-only mapping of its file, or an aligned heap copy for
/// `ArtifactReader.read(bytes:)`. Tensors handed out by the reader borrow this memory and hold
/// a reference to it, so it stays valid while any of them is alive and is unmapped after the
/// last one goes.
public final class ArtifactMemory: @unchecked Sendable {
    // Sendable proof: `region` and `isMemoryMapped` are set once in init and never change; the
    // memory is mapped PROT_READ (or is a heap block nobody writes after init), so concurrent
    // reads are safe; deinit runs once, after the last reference is gone.
    let region: UnsafeRawBufferPointer
    /// True for a file mapping, false for a heap copy.
    public let isMemoryMapped: Bool
    /// The mapped file's version, from `fstat` of the descriptor that was mapped (nil for a
    /// heap copy): the bytes in `region` are that version's.
    let fileVersion: FileVersion?
    private let mappedLength: Int

    private init(region: UnsafeRawBufferPointer, isMemoryMapped: Bool, mappedLength: Int, fileVersion: FileVersion? = nil) {
        self.region = region
        self.isMemoryMapped = isMemoryMapped
        self.mappedLength = mappedLength
        self.fileVersion = fileVersion
    }

    deinit {
        guard let base = region.baseAddress else { return }
        if isMemoryMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), mappedLength)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }

    public var byteCount: Int { region.count }

    /// Whether `bytes` lies entirely inside this memory (true for every tensor the reader made
    /// from it: the zero-copy guarantee, checkable).
    public func contains(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = region.baseAddress, let p = bytes.baseAddress else { return bytes.isEmpty }
        return p >= base && p + bytes.count <= base + region.count
    }

    /// Maps `path` read-only. The mapping is private: later writes to the file by others are
    /// not guaranteed to stay invisible (see docs/model-format.md on slot files), so the agent
    /// must own the files it maps.
    static func map(path: String) throws(ArtifactError) -> ArtifactMemory {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .fileOperationFailed(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .fileOperationFailed(path: path, operation: "stat", errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .fileOperationFailed(path: path, operation: "map (not a regular file)", errno: EINVAL)
        }
        let size = Int(info.st_size)
        guard size > 0 else { throw .truncated(expected: ArtifactFormat.headerSize, actual: 0) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw .fileOperationFailed(path: path, operation: "mmap", errno: errno)
        }
        return ArtifactMemory(
            region: UnsafeRawBufferPointer(start: base, count: size), isMemoryMapped: true, mappedLength: size,
            fileVersion: FileVersion(info))
    }

    /// Copies `bytes` into a page-aligned heap block, so tensor alignment matches a mapping.
    static func copy(_ bytes: UnsafeRawBufferPointer) -> ArtifactMemory {
        let block = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 4096)
        if let src = bytes.baseAddress, let dst = block.baseAddress { dst.copyMemory(from: src, byteCount: bytes.count) }
        return ArtifactMemory(
            region: UnsafeRawBufferPointer(start: block.baseAddress, count: bytes.count), isMemoryMapped: false, mappedLength: 0)
    }
}

enum PosixErrors {
    static func text(_ code: Int32) -> String {
        guard let s = strerror(code) else { return "error \(code)" }
        return String(cString: s)
    }
}
