/// Where an agent's update time went: wall time per kind of step, summed over the agent's
/// life (a step that runs twice counts twice). Kept on the actor, read by the fleet benchmark
/// (`AgentService.stepTimes`) to split a rollout's per-device time into download, verify,
/// install, load, validation and the durable writes between them. Costs two clock reads per
/// step.
public struct AgentStepTimes: Sendable, Equatable {
    public struct Step: Sendable, Equatable {
        public var count = 0
        public var totalMicroseconds: UInt64 = 0
    }

    /// By step name: the action names of `UpdateAction` (`persist`, `verifyDownload`,
    /// `installToSlot`, `loadTrial`, `runValidation`, `commitSlot`, ...) plus `chunkWrite`
    /// (a chunk frame checked and written) and `checkpoint` (a download checkpoint: the file's
    /// sync and the bitmap's durable write).
    public private(set) var steps: [String: Step] = [:]

    public init() {}

    mutating func record(_ name: String, since start: ContinuousClock.Instant) {
        let (s, atto) = (ContinuousClock.now - start).components
        let us = UInt64(max(0, s)) * 1_000_000 + UInt64(max(0, atto)) / 1_000_000_000_000
        steps[name, default: Step()].count += 1
        steps[name, default: Step()].totalMicroseconds += us
    }
}

extension UpdateAction {
    /// The case name, for step timing.
    var stepName: String {
        switch self {
        case .persist: "persist"
        case .startDownload: "startDownload"
        case .resumeDownload: "resumeDownload"
        case .requestMissingChunks: "requestMissingChunks"
        case .abandonDownload: "abandonDownload"
        case .verifyDownload: "verifyDownload"
        case .eraseSlot: "eraseSlot"
        case .installToSlot: "installToSlot"
        case .loadTrial: "loadTrial"
        case .runValidation: "runValidation"
        case .commitSlot: "commitSlot"
        case .activateSlot: "activateSlot"
        case .publishState: "publishState"
        case .publishEvent: "publishEvent"
        }
    }
}
