public import Foundation
public import ModelArtifact

/// The coordinator's artifact signing keys under `<dataDirectory>/keys/` (mode 0700): one active
/// Ed25519 key that signs new releases, plus retired keys whose public halves devices may still
/// pin. Created on first use. docs/keys.md describes rotation.
///
/// Files: `keyring.json` (`{"active": id, "next": id?, "retired": [id, ...]}`, replaced
/// atomically), `<id>.key` (PKCS#8 PEM private key, mode 0600, for the active and the prepared
/// next key only: a retired key signs nothing more, so its private half is deleted at rotation)
/// and `<id>.pub` (PEM public key).
/// A private key file readable by group or others, or owned by another user, is refused.
///
/// A value type over files: each mutating call writes through before it returns, and a new
/// `open` sees the same keys. Use one keyring per data directory at a time.
public struct SigningKeyring: Sendable {
    public let directory: URL
    public private(set) var activeKey: ArtifactSigningKey
    /// The key `rotate()` will activate, made by `prepareRotation()` so devices can pin it first.
    public private(set) var nextKey: ArtifactSigningKey?
    /// Retired keys, oldest first, still exported for pinning until removed.
    public private(set) var retiredKeys: [ArtifactPublicKey]

    public static let directoryName = "keys"

    /// Opens the keyring in `<dataDirectory>/keys/`, creating it with a fresh key if absent.
    public static func open(dataDirectory: URL) throws -> SigningKeyring {
        let directory = dataDirectory.appendingPathComponent(directoryName)
        try KeyFiles.makeDirectory(directory)
        let index = directory.appendingPathComponent("keyring.json")
        guard FileManager.default.fileExists(atPath: index.path) else {
            let key = ArtifactSigningKey.generate()
            try KeyFiles.writePrivateKey(key, in: directory)
            try KeyFiles.writePublicKey(key.publicKey, in: directory)
            let ring = SigningKeyring(directory: directory, activeKey: key, nextKey: nil, retiredKeys: [])
            try ring.saveIndex()
            return ring
        }
        let stored = try KeyFiles.readIndex(index)
        let key = try KeyFiles.readPrivateKey(id: stored.active, in: directory)
        let next = try stored.next.map { try KeyFiles.readPrivateKey(id: $0, in: directory) }
        let publics = try stored.retired.map { try KeyFiles.readPublicKey(id: $0, in: directory) }
        return SigningKeyring(directory: directory, activeKey: key, nextKey: next, retiredKeys: publics)
    }

    public var activeKeyID: String { activeKey.keyID }

    /// Every key devices should pin: the active one, the prepared next one, then the retired ones
    /// not yet removed (newest first).
    public var publicKeys: [ArtifactPublicKey] { [activeKey.publicKey] + [nextKey?.publicKey].compactMap { $0 } + retiredKeys.reversed() }

    /// `publicKeys` as concatenated PEM blocks (what an agent's pinned-keys file holds).
    public func publicKeysPEM() -> String { publicKeys.map(\.pemRepresentation).joined() }

    /// Makes the key the next rotation will activate, so its public half can be pinned on every
    /// device before anything is signed with it (docs/keys.md). Idempotent.
    @discardableResult
    public mutating func prepareRotation() throws -> ArtifactPublicKey {
        if let nextKey { return nextKey.publicKey }
        let key = ArtifactSigningKey.generate()
        try KeyFiles.writePrivateKey(key, in: directory)
        try KeyFiles.writePublicKey(key.publicKey, in: directory)
        var next = self
        next.nextKey = key
        try next.saveIndex()
        self = next
        return key.publicKey
    }

    /// Activates the prepared next key (or a new one); the old one is retired (its public key
    /// stays listed, its private key file is deleted). Returns the new active key.
    @discardableResult
    public mutating func rotate() throws -> ArtifactSigningKey {
        let key: ArtifactSigningKey
        if let prepared = nextKey {
            key = prepared
        } else {
            key = ArtifactSigningKey.generate()
            try KeyFiles.writePrivateKey(key, in: directory)
            try KeyFiles.writePublicKey(key.publicKey, in: directory)
        }
        let old = activeKey
        var next = self
        next.activeKey = key
        next.nextKey = nil
        next.retiredKeys.append(old.publicKey)
        // The index is the commit point: a crash before it leaves the old key active and an
        // unused new key file behind.
        try next.saveIndex()
        self = next
        KeyFiles.remove(directory.appendingPathComponent("\(old.keyID).key"))
        return key
    }

    /// Drops a retired key: devices should unpin it first (docs/keys.md).
    public mutating func remove(keyID: String) throws {
        if keyID == activeKey.keyID || keyID == nextKey?.keyID { throw KeyringError.activeKeyCannotBeRemoved(keyID: keyID) }
        guard let i = retiredKeys.firstIndex(where: { $0.keyID == keyID }) else {
            throw KeyringError.unknownKey(keyID: keyID, known: publicKeys.map(\.keyID))
        }
        var next = self
        next.retiredKeys.remove(at: i)
        try next.saveIndex()
        self = next
        KeyFiles.remove(directory.appendingPathComponent("\(keyID).pub"))
    }

    func saveIndex() throws {
        try KeyFiles.writeIndex(
            KeyFiles.Index(active: activeKey.keyID, next: nextKey?.keyID, retired: retiredKeys.map(\.keyID)), in: directory)
    }
}
