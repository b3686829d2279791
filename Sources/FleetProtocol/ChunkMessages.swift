/// A device's request to publish chunks again, on `flotilla/v1/devices/{id}/chunks/request`.
/// The coordinator answers by republishing the chunks on the artifact's class topic (every
/// device still downloading benefits), coalescing requests that arrive together.
public struct ChunkRequest: WireMessage, Equatable {
    public static let messageType = "chunkRequest"
    /// Bounds the message and the work one request can cause; a device with more gaps sends
    /// the first ranges and asks again.
    public static let maxRanges = 256

    public var deviceID: String
    public var hardwareClass: String
    public var artifactDigest: String
    /// Missing chunks, as maximal ascending runs. Empty: "I have nothing yet, send it all".
    public var missing: [ChunkRange]
    /// Which retry of this download this is (1-based), so the coordinator can see devices that
    /// keep failing.
    public var attempt: Int

    public init(deviceID: String, hardwareClass: String, artifactDigest: String, missing: [ChunkRange], attempt: Int) {
        self.deviceID = deviceID
        self.hardwareClass = hardwareClass
        self.artifactDigest = artifactDigest
        self.missing = Array(missing.prefix(Self.maxRanges))
        self.attempt = attempt
    }

    /// The indices asked for, clipped to `chunkCount` (a request is untrusted input).
    public func indices(chunkCount: Int) -> [Int] {
        var out: Set<Int> = []
        for range in missing.prefix(Self.maxRanges) where range.first >= 0 && range.count > 0 && range.first < chunkCount {
            let end = range.first + min(range.count, chunkCount - range.first)
            for i in range.first..<end { out.insert(i) }
        }
        if missing.isEmpty { return Array(0..<chunkCount) }
        return out.sorted()
    }
}

/// The coordinator's order to stop downloading an artifact (rollout halted or superseded), on
/// `flotilla/v1/artifacts/{class}/{digest}/cancel`. The device drops the partial download and
/// reports `downloadCanceled`; the retained desired state remains the durable truth.
public struct DownloadCancel: WireMessage, Equatable {
    public static let messageType = "downloadCancel"

    public var hardwareClass: String
    public var artifactDigest: String
    public var releaseSequence: UInt64
    public var reason: String

    public init(hardwareClass: String, artifactDigest: String, releaseSequence: UInt64, reason: String) {
        self.hardwareClass = hardwareClass
        self.artifactDigest = artifactDigest
        self.releaseSequence = releaseSequence
        self.reason = reason
    }
}
