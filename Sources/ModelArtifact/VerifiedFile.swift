/// A caller's proof that one file's whole bytes were checked: the SHA-256 it computed over
/// exactly those bytes and matched against a trusted digest (for the agent, the signed desired
/// state's `uncompressedSHA256`), and the version the file had when it did so.
///
/// `ArtifactReader.open(_:trust:verified:)` skips the per-section SHA-256s only when the file
/// it opened still has `version` on the open descriptor: every section lies inside the file, so
/// a match on the whole file covers them. Any write, truncate or replacement since changes the
/// version (inode, size, mtime or ctime) and the sections are hashed as without it.
///
/// What it cannot prove: that nobody rewrote the file in place while keeping all four stamps
/// (which takes root and a deliberate `utimensat` plus a clock rollback for ctime), or that the
/// disk did not rot bits under an unchanged inode. The agent owns its slot files; the section
/// hashes are a second check of bytes it has just written, not a defence against such a writer.
public struct VerifiedFile: Sendable, Hashable, CustomStringConvertible {
    /// Lower-case hex SHA-256 of the whole file.
    public var sha256: String
    public var version: FileVersion

    public init(sha256: String, version: FileVersion) {
        self.sha256 = sha256
        self.version = version
    }

    public var description: String {
        "VerifiedFile(sha256 \(sha256), dev \(version.device) ino \(version.inode) size \(version.size))"
    }
}

/// How the reader established that every section holds the bytes its table entry names.
public enum SectionDigestCheck: Sendable, Hashable {
    /// Every section was hashed and compared with its table digest.
    case hashed
    /// The caller's whole-file SHA-256 (this lower-case hex) covered them: the file still had
    /// the version at which it was verified (`VerifiedFile`).
    case coveredByWholeFile(sha256: String)
}
