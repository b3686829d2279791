internal import Crypto

/// An Ed25519 public key pinned on devices to verify artifacts.
public struct ArtifactPublicKey: Sendable, Hashable, CustomStringConvertible {
    // Raw bytes rather than Crypto's key type, which is not Sendable.
    private let raw: [UInt8]
    /// First 8 bytes of SHA-256 of the raw 32-byte public key, in lower-case hex (16 digits).
    public let keyID: String
    let keyIDBytes: [UInt8]

    init(key: Curve25519.Signing.PublicKey) {
        raw = Array(key.rawRepresentation)
        keyIDBytes = Array(SHA256.hash(data: raw).prefix(8))
        keyID = Hex.string(keyIDBytes)
    }

    /// The raw 32-byte Ed25519 public key.
    public init(rawRepresentation: [UInt8]) throws(ArtifactError) {
        guard rawRepresentation.count == 32 else {
            throw .invalidKey(detail: "an Ed25519 public key is 32 bytes, got \(rawRepresentation.count)")
        }
        do { self.init(key: try Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation)) } catch {
            throw .invalidKey(detail: "\(error)")
        }
    }

    public var rawRepresentation: [UInt8] { raw }

    /// SubjectPublicKeyInfo "PUBLIC KEY" PEM, as `openssl pkey -pubout` writes it.
    public init(pemRepresentation pem: String) throws(ArtifactError) {
        let der = try PEM.decode(pem, label: "PUBLIC KEY")
        guard der.count == PEM.spkiPrefix.count + 32, Array(der.prefix(PEM.spkiPrefix.count)) == PEM.spkiPrefix else {
            throw .invalidKey(detail: "the PEM holds a public key that is not Ed25519 (OID 1.3.101.112)")
        }
        try self.init(rawRepresentation: Array(der.suffix(32)))
    }

    public var pemRepresentation: String { PEM.encode(PEM.spkiPrefix + rawRepresentation, label: "PUBLIC KEY") }

    func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return false }
        return key.isValidSignature(signature, for: message)
    }

    public var description: String { "Ed25519 key \(keyID)" }

}
