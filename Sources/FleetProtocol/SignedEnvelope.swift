internal import Foundation

/// A message signed by a coordinator key: the exact bytes of an inner message (itself a
/// `MessageEnvelope` frame), the key id and an Ed25519 signature over
/// `"flotilla-signed-message-v1\0" ‖ payload`.
///
/// Signing the payload *bytes* (carried base64 in JSON) rather than re-encoded fields means the
/// verifier never depends on JSON canonicalisation: it checks the bytes, then decodes them. The
/// context prefix keeps a message signature from being valid as an artifact signature (which
/// uses `flotilla-artifact-signature-v1\0`) and vice versa.
public struct SignedEnvelope: WireMessage, Equatable {
    public static let messageType = "signed"
    static let context: [UInt8] = Array("flotilla-signed-message-v1".utf8) + [0]

    public var payload: [UInt8]
    /// `ArtifactPublicKey.keyID` of the signing key (16 hex digits).
    public var keyID: String
    public var signature: [UInt8]

    public init(payload: [UInt8], keyID: String, signature: [UInt8]) {
        self.payload = payload
        self.keyID = keyID
        self.signature = signature
    }

    static func signedBytes(_ payload: [UInt8]) -> [UInt8] { context + payload }

    private enum CodingKeys: String, CodingKey { case payload, keyID = "keyId", signature }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let payload = Data(base64Encoded: try c.decode(String.self, forKey: .payload)) else {
            throw DecodingError.dataCorruptedError(forKey: .payload, in: c, debugDescription: "not base64")
        }
        guard let signature = Data(base64Encoded: try c.decode(String.self, forKey: .signature)), signature.count == 64 else {
            throw DecodingError.dataCorruptedError(forKey: .signature, in: c, debugDescription: "not base64 of a 64-byte Ed25519 signature")
        }
        self.payload = Array(payload)
        self.signature = Array(signature)
        self.keyID = try c.decode(String.self, forKey: .keyID)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Data(payload).base64EncodedString(), forKey: .payload)
        try c.encode(keyID, forKey: .keyID)
        try c.encode(Data(signature).base64EncodedString(), forKey: .signature)
    }
}
