/// Little-endian appends into a growing byte array.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func append(_ other: [UInt8]) { bytes.append(contentsOf: other) }

    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Zero bytes up to the next multiple of `alignment`.
    mutating func pad(to alignment: Int) {
        let target = ArtifactLayout.align(bytes.count, alignment)
        bytes.append(contentsOf: repeatElement(0, count: target - bytes.count))
    }
}

/// Bounds-checked little-endian reads; running off the end is a `truncated` error, never a trap.
struct ByteReader {
    let buffer: UnsafeRawBufferPointer
    var offset = 0

    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }

    private mutating func take(_ count: Int) throws(ArtifactError) -> UnsafeRawBufferPointer {
        guard count >= 0, offset <= buffer.count, count <= buffer.count - offset else {
            throw .truncated(expected: offset + count, actual: buffer.count)
        }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + count)])
    }

    private mutating func integer<T: FixedWidthInteger>(_: T.Type) throws(ArtifactError) -> T {
        let raw = try take(MemoryLayout<T>.size)
        return T(littleEndian: raw.loadUnaligned(as: T.self))
    }

    mutating func u16() throws(ArtifactError) -> UInt16 { try integer(UInt16.self) }
    mutating func u32() throws(ArtifactError) -> UInt32 { try integer(UInt32.self) }
    mutating func u64() throws(ArtifactError) -> UInt64 { try integer(UInt64.self) }
    mutating func bytes(_ count: Int) throws(ArtifactError) -> [UInt8] { Array(try take(count)) }
}
