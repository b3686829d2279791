internal import Crypto

/// An Ed25519 private key that signs artifacts (held by the coordinator, never by devices).
public struct ArtifactSigningKey: Sendable {
    // The seed, not Crypto's key type (which is not Sendable): a key is rebuilt per signature,
    // which costs far less than the signature itself.
    private let seed: [UInt8]
    public let publicKey: ArtifactPublicKey

    /// A fresh key from the system's random source.
    public static func generate() -> ArtifactSigningKey {
        let key = Curve25519.Signing.PrivateKey()
        return ArtifactSigningKey(seed: Array(key.rawRepresentation), publicKey: ArtifactPublicKey(key: key.publicKey))
    }

    private init(seed: [UInt8], publicKey: ArtifactPublicKey) {
        self.seed = seed
        self.publicKey = publicKey
    }

    /// The 32-byte Ed25519 seed (RFC 8032's private key).
    public init(rawRepresentation: [UInt8]) throws(ArtifactError) {
        guard rawRepresentation.count == 32 else {
            throw .invalidKey(detail: "an Ed25519 private key is 32 bytes, got \(rawRepresentation.count)")
        }
        do {
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: rawRepresentation)
            self.init(seed: rawRepresentation, publicKey: ArtifactPublicKey(key: key.publicKey))
        } catch {
            throw .invalidKey(detail: "\(error)")
        }
    }

    public var rawRepresentation: [UInt8] { seed }

    /// PKCS#8 "PRIVATE KEY" PEM, the form `openssl genpkey -algorithm ed25519` writes and reads.
    public init(pemRepresentation pem: String) throws(ArtifactError) {
        let der = try PEM.decode(pem, label: "PRIVATE KEY")
        guard der.count == PEM.pkcs8Prefix.count + 32, Array(der.prefix(PEM.pkcs8Prefix.count)) == PEM.pkcs8Prefix else {
            throw .invalidKey(detail: "the PEM holds a PKCS#8 key that is not a plain Ed25519 key (OID 1.3.101.112, no attributes)")
        }
        try self.init(rawRepresentation: Array(der.suffix(32)))
    }

    public var pemRepresentation: String { PEM.encode(PEM.pkcs8Prefix + rawRepresentation, label: "PRIVATE KEY") }

    /// The key id of the public half; see `ArtifactPublicKey.keyID`.
    public var keyID: String { publicKey.keyID }

    func sign(_ message: [UInt8]) throws(ArtifactError) -> [UInt8] {
        do { return Array(try Curve25519.Signing.PrivateKey(rawRepresentation: seed).signature(for: message)) } catch {
            throw .invalidKey(detail: "signing failed: \(error)")
        }
    }
}
