internal import Crypto
public import ModelArtifact

/// Signs control messages with a coordinator key (the same Ed25519 key type that signs
/// artifacts, so one key pair and one pinned set serve both).
public struct MessageSigner: Sendable {
    public let key: ArtifactSigningKey

    public init(key: ArtifactSigningKey) { self.key = key }

    /// Encodes `message` in its envelope and signs the bytes.
    public func sign<M: WireMessage>(_ message: M) throws(ProtocolError) -> SignedEnvelope {
        try sign(payload: MessageEnvelope.encode(message))
    }

    public func sign(payload: [UInt8]) throws(ProtocolError) -> SignedEnvelope {
        do {
            let privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: key.rawRepresentation)
            let signature = try privateKey.signature(for: SignedEnvelope.signedBytes(payload))
            return SignedEnvelope(payload: payload, keyID: key.keyID, signature: Array(signature))
        } catch {
            throw .badSignature(keyID: key.keyID)
        }
    }
}

/// A desired state whose signature, addressee and sequence were checked.
public struct VerifiedDesiredState: Sendable, Equatable {
    public var state: DesiredState
    /// The sequence the agent must persist as its new "last accepted" value.
    public var sequence: UInt64 { state.sequence }
    public var keyID: String
}

/// Verifies signed messages against the pinned coordinator keys. Several keys are pinned at
/// once so keys can rotate: pin the new key on every device, start signing with it, then unpin
/// the old one.
public struct MessageVerifier: Sendable {
    public let pinnedKeys: [ArtifactPublicKey]

    public init(pinnedKeys: [ArtifactPublicKey]) { self.pinnedKeys = pinnedKeys }

    /// The payload bytes, once the signature verifies under a pinned key.
    public func verify(_ envelope: SignedEnvelope) throws(ProtocolError) -> [UInt8] {
        guard let key = pinnedKeys.first(where: { $0.keyID == envelope.keyID }) else {
            throw .unknownSigningKey(keyID: envelope.keyID, pinned: pinnedKeys.map(\.keyID))
        }
        guard let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: key.rawRepresentation),
            publicKey.isValidSignature(envelope.signature, for: SignedEnvelope.signedBytes(envelope.payload))
        else { throw .badSignature(keyID: envelope.keyID) }
        return envelope.payload
    }

    /// Verifies and decodes a signed message of type `M`.
    public func open<M: WireMessage>(_ type: M.Type, from envelope: SignedEnvelope) throws(ProtocolError) -> M {
        try MessageEnvelope.decode(type, from: verify(envelope))
    }

    /// The replay rules for desired state: the signature verifies under a pinned key, the
    /// message is addressed to `deviceID`, and its sequence is above `lastAcceptedSequence`
    /// (nil when the device never accepted one). The caller persists the returned sequence
    /// before acting on the state.
    public func verifyDesiredState(
        _ bytes: [UInt8], deviceID: String, lastAcceptedSequence: UInt64?
    ) throws(ProtocolError) -> VerifiedDesiredState {
        let envelope = try MessageEnvelope.decode(SignedEnvelope.self, from: bytes)
        let state = try open(DesiredState.self, from: envelope)
        guard state.deviceID == deviceID else { throw .wrongDevice(expected: deviceID, found: state.deviceID) }
        if let last = lastAcceptedSequence, state.sequence <= last {
            throw .replayedSequence(deviceID: deviceID, sequence: state.sequence, lastAccepted: last)
        }
        return VerifiedDesiredState(state: state, keyID: envelope.keyID)
    }
}
