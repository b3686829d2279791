import FleetProtocol
import Synchronization

/// The rate limiter shared by the coordinator's subscription tasks, which consult it before
/// decoding a message or hopping onto the service actor: an excess message is dropped where it
/// arrives, so a flood costs neither actor time nor a growing queue in front of the actor.
///
/// Messages on topics that do not parse as device topics pass through: the decoder refuses and
/// counts them (`badTopic`, `notADeviceTopic`).
final class IngestGate: Sendable {
    private struct State {
        var limiter: IngestRateLimiter
        var dropped: [Topics.DeviceTopic: Int] = [:]
    }

    private let state: Mutex<State>

    init(budget: IngestBudget, maxTracked: Int = 100_000) {
        state = Mutex(State(limiter: IngestRateLimiter(budget: budget, maxTracked: maxTracked)))
    }

    /// Whether the message on `topic` may be ingested; counts it if not.
    func admit(topic: String, nowMs: Int64) -> Bool {
        guard case .device(let id, let kind)? = try? Topics.parse(topic) else { return true }
        return state.withLock { s in
            let admitted = s.limiter.admit(deviceID: id, kind: kind, nowMs: nowMs)
            if !admitted { s.dropped[kind, default: 0] += 1 }
            return admitted
        }
    }

    /// Messages dropped by the limiter so far, by topic kind.
    var droppedByKind: [Topics.DeviceTopic: Int] { state.withLock { $0.dropped } }

    var trackedCount: Int { state.withLock { $0.limiter.trackedCount } }
}
