public import Foundation
public import ModelArtifact

/// A single signing key in a PEM file (`flotilla quantize --artifacts --key FILE`), with the
/// keyring's rules: written 0600 from creation, refused when group/world readable.
public enum SigningKeyFile {
    public static func read(_ url: URL) throws -> ArtifactSigningKey {
        try KeyFiles.readPrivateKey(path: url.path)
    }

    /// Writes `key` to a new file (an existing file is never overwritten) and its public half
    /// to `publicURL` when given.
    public static func write(_ key: ArtifactSigningKey, to url: URL, publicKeyTo publicURL: URL? = nil) throws {
        try KeyFiles.write(Array(key.pemRepresentation.utf8), to: url.path, mode: 0o600, exclusive: true)
        if let publicURL {
            try KeyFiles.write(Array(key.publicKey.pemRepresentation.utf8), to: publicURL.path, mode: 0o644, exclusive: false)
        }
    }
}
