internal import Crypto

/// One row of the section table.
struct SectionEntry: Sendable, Equatable {
    /// Raw kind: a reader skips kinds it does not know (a later minor version's additions).
    var rawKind: UInt32
    var offset: Int
    var length: Int
    var alignment: Int
    /// SHA-256 of the section's bytes; all zero for the signature section, which cannot cover
    /// itself (the signature covers this table instead).
    var digest: [UInt8]

    var kind: SectionKind? { SectionKind(rawValue: rawKind) }
    var name: String { kind?.description ?? "section of unknown kind \(rawKind)" }
    var end: Int { offset + length }
}

/// The header and section table: where every section is and what it hashes to.
///
/// `parse` checks everything that can be checked without reading section contents, so that
/// nothing later ever indexes outside the file.
struct ArtifactLayout: Sendable {
    var version: ArtifactFormatVersion
    var entries: [SectionEntry]
    var fileLength: Int
    /// SHA-256 of header fields + table: the value the signature signs.
    var headerDigest: [UInt8]

    var tableEnd: Int { ArtifactFormat.headerSize + entries.count * ArtifactFormat.tableEntrySize }

    func entry(_ kind: SectionKind) -> SectionEntry? { entries.first { $0.rawKind == kind.rawValue } }

    // MARK: Writing

    /// Places sections of the given kinds and lengths after the table, each on its alignment.
    static func place(_ sections: [(SectionKind, Int)]) -> [SectionEntry] {
        var cursor = ArtifactFormat.headerSize + sections.count * ArtifactFormat.tableEntrySize
        return sections.map { kind, length in
            cursor = align(cursor, kind.alignment)
            defer { cursor += length }
            return SectionEntry(rawKind: kind.rawValue, offset: cursor, length: length, alignment: kind.alignment, digest: [])
        }
    }

    /// Header + table bytes for `entries` (whose digests are filled in), with the header digest.
    static func encode(entries: [SectionEntry], fileLength: Int) -> (bytes: [UInt8], headerDigest: [UInt8]) {
        var w = ByteWriter()
        w.append(ArtifactFormat.magic)
        w.appendLE(UInt16(ArtifactFormat.majorVersion))
        w.appendLE(UInt16(ArtifactFormat.minorVersion))
        w.appendLE(UInt32(0))  // flags
        w.appendLE(UInt32(entries.count))
        w.appendLE(UInt32(ArtifactFormat.tableEntrySize))
        w.appendLE(UInt64(fileLength))
        var table = ByteWriter()
        for e in entries {
            table.appendLE(e.rawKind)
            table.appendLE(UInt32(0))  // flags
            table.appendLE(UInt64(e.offset))
            table.appendLE(UInt64(e.length))
            table.appendLE(UInt32(e.alignment))
            table.appendLE(UInt32(0))  // reserved
            table.append(e.digest.count == 32 ? e.digest : [UInt8](repeating: 0, count: 32))
        }
        var hasher = SHA256()
        hasher.update(data: w.bytes)
        hasher.update(data: table.bytes)
        let digest = Array(hasher.finalize())
        return (w.bytes + digest + table.bytes, digest)
    }

    static func align(_ value: Int, _ alignment: Int) -> Int {
        (value + alignment - 1) / alignment * alignment
    }

    // MARK: Reading

    static func parse(_ file: UnsafeRawBufferPointer) throws(ArtifactError) -> ArtifactLayout {
        var r = ByteReader(file)
        let magic = Array(file.prefix(ArtifactFormat.magic.count))
        guard magic == ArtifactFormat.magic else { throw .notAnArtifact(found: magic) }
        r.offset = 8
        // The version comes before any other check: a future major may change everything after it.
        guard file.count >= 12 else { throw .truncated(expected: ArtifactFormat.headerSize, actual: file.count) }
        let major = Int(try r.u16()), minor = Int(try r.u16())
        guard major == ArtifactFormat.majorVersion else {
            throw .unsupportedVersion(major: major, minor: minor, supportedMajor: ArtifactFormat.majorVersion)
        }
        guard file.count >= ArtifactFormat.headerSize else {
            throw .truncated(expected: ArtifactFormat.headerSize, actual: file.count)
        }
        let flags = try r.u32()
        guard flags == 0 else {
            throw .malformedLayout(
                offset: 12, detail: "header flags 0x\(String(flags, radix: 16)) are set, and format \(major).x defines none")
        }
        let count = Int(try r.u32())
        guard (1...ArtifactFormat.maxSections).contains(count) else {
            throw .malformedLayout(offset: 16, detail: "section count \(count) is outside 1...\(ArtifactFormat.maxSections)")
        }
        let entrySize = Int(try r.u32())
        guard entrySize >= ArtifactFormat.tableEntrySize, entrySize <= 1024, entrySize % 8 == 0 else {
            throw .malformedLayout(offset: 20, detail: "section table entry size \(entrySize) is not a multiple of 8 in 64...1024")
        }
        let declaredLength = try r.u64()
        let tableEnd = ArtifactFormat.headerSize + count * entrySize
        guard declaredLength <= UInt64(Int.max), Int(declaredLength) == file.count else {
            if declaredLength > UInt64(file.count) {
                throw .truncated(expected: declaredLength > UInt64(Int.max) ? Int.max : Int(declaredLength), actual: file.count)
            }
            throw .malformedLayout(
                offset: 24, detail: "the header declares \(declaredLength) bytes but the file has \(file.count) (bytes appended?)")
        }
        guard tableEnd <= file.count else { throw .truncated(expected: tableEnd, actual: file.count) }
        let storedDigest = Array(file[32..<64])
        var hasher = SHA256()
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: file[0..<32]))
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: file[64..<tableEnd]))
        let digest = Array(hasher.finalize())
        guard digest == storedDigest else { throw .digestMismatch(section: "header and section table", offset: 0) }

        var entries: [SectionEntry] = []
        for i in 0..<count {
            let base = ArtifactFormat.headerSize + i * entrySize
            r.offset = base
            let kind = try r.u32()
            let entryFlags = try r.u32()
            let offset = try r.u64()
            let length = try r.u64()
            let alignment = Int(try r.u32())
            let reserved = try r.u32()
            let sectionDigest = try r.bytes(32)
            let place = "section table entry \(i)"
            guard entryFlags == 0, reserved == 0 else {
                throw .malformedLayout(offset: base + 4, detail: "\(place) has reserved fields set")
            }
            guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= ArtifactFormat.maxSectionAlignment else {
                throw .malformedLayout(
                    offset: base + 24,
                    detail: "\(place) alignment \(alignment) is not a power of two up to \(ArtifactFormat.maxSectionAlignment)")
            }
            guard offset <= UInt64(file.count), length <= UInt64(file.count) - offset else {
                throw .malformedLayout(
                    offset: base + 8, detail: "\(place) spans bytes \(offset) + \(length), past the end of the \(file.count)-byte file")
            }
            let entry = SectionEntry(rawKind: kind, offset: Int(offset), length: Int(length), alignment: alignment, digest: sectionDigest)
            guard entry.offset >= tableEnd else {
                throw .malformedLayout(
                    offset: base + 8, detail: "\(entry.name) starts at \(offset), inside the header or table (which end at \(tableEnd))")
            }
            guard entry.offset % alignment == 0 else {
                throw .malformedLayout(offset: base + 8, detail: "\(entry.name) offset \(offset) is not aligned to \(alignment)")
            }
            if let known = entry.kind, entries.contains(where: { $0.rawKind == kind }) {
                throw .duplicateSection(known.description)
            }
            if entry.kind == .signature, entry.digest.contains(where: { $0 != 0 }) {
                throw .malformedLayout(
                    offset: base + 32, detail: "the signature section's digest field must be zero (the signature covers the table instead)")
            }
            entries.append(entry)
        }
        try checkCoverage(entries, tableEnd: tableEnd, file: file)
        return ArtifactLayout(
            version: ArtifactFormatVersion(major: major, minor: minor), entries: entries, fileLength: file.count,
            headerDigest: digest)
    }

    /// Sections must not overlap, and every byte outside header, table and sections must be
    /// alignment padding (shorter than the next section's alignment, all zero): then every byte
    /// of the file is covered by some digest, and nothing can hide in the gaps.
    private static func checkCoverage(_ entries: [SectionEntry], tableEnd: Int, file: UnsafeRawBufferPointer) throws(ArtifactError) {
        let sorted = entries.sorted { ($0.offset, $0.length) < ($1.offset, $1.length) }
        var cursor = tableEnd
        for e in sorted {
            guard e.offset >= cursor else {
                throw .malformedLayout(offset: e.offset, detail: "\(e.name) overlaps the section before it (which ends at \(cursor))")
            }
            guard e.offset - cursor < e.alignment else {
                throw .malformedLayout(
                    offset: cursor, detail: "\(e.offset - cursor) unaccounted bytes before \(e.name), more than its alignment needs")
            }
            if let bad = (cursor..<e.offset).first(where: { file[$0] != 0 }) {
                throw .malformedLayout(offset: bad, detail: "padding before \(e.name) is not zero")
            }
            cursor = e.end
        }
        guard cursor == file.count else {
            throw .malformedLayout(offset: cursor, detail: "\(file.count - cursor) bytes after the last section belong to no section")
        }
    }
}
