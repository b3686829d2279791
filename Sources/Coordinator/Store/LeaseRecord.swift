/// A named, expiring claim held by one coordinator (e.g. "rollout/r-42": who steps it).
public struct LeaseRecord: Codable, Sendable, Equatable {
    public var name: String
    public var holder: String
    public var expiresAtMs: Int64

    public init(name: String, holder: String, expiresAtMs: Int64) {
        self.name = name
        self.holder = holder
        self.expiresAtMs = expiresAtMs
    }
}
