/// What the reader requires of an artifact's signature.
public enum ArtifactTrust: Sendable {
    /// The artifact must be signed by one of these keys (several, so keys can rotate: pin the
    /// new key everywhere, start signing with it, then unpin the old one).
    case pinnedKeys([ArtifactPublicKey])
    /// Do not look at the signature at all (host tools inspecting their own output, tests).
    /// Digests are still checked. Never use this on a device.
    case skipSignatureCheck
}
