import ModelIR
import Runtime
import Synchronization

/// Runs the serving model for inference requests away from the agent's actor, so a model run
/// never holds the actor that handles the device's messages, chunks and timers: with many
/// agents in one process (the fleet simulator) or a slow model on a device, requests would
/// otherwise queue behind each other and behind every inference.
///
/// Sessions are not thread-safe but own an arena worth keeping, so idle ones are pooled: each
/// concurrent run takes one (or makes one) and gives it back.
final class ModelRunner: Sendable {
    let model: LoadedModel
    let faults: ModelFaults
    // Proof of Sendable: a Session is only ever used by the one run that took it out of the
    // pool; the pool itself is behind the Mutex.
    private let idle = Mutex<[SessionBox]>([])

    init(model: LoadedModel, faults: ModelFaults) {
        self.model = model
        self.faults = faults
    }

    /// Runs the model on the global executor; returns the outputs (perturbed by an injected
    /// fault, if any) and the run's latency (stretched by an injected slowness, if any).
    @concurrent
    func run(_ inputs: [String: Tensor]) async throws -> (outputs: [String: Tensor], latency: Duration) {
        let box = idle.withLock { $0.popLast() } ?? SessionBox(model.plan.makeSession())
        let start = ContinuousClock.now
        let outputs: [String: Tensor]
        do { outputs = faults.perturb(try box.session.run(inputs: inputs)) } catch {
            idle.withLock { $0.append(box) }
            throw error
        }
        idle.withLock { $0.append(box) }
        if let extra = faults.extraDelay(after: ContinuousClock.now - start) { try? await Task.sleep(for: extra) }
        return (outputs, ContinuousClock.now - start)
    }
}

/// A session that moves between the pool and the one run using it.
private final class SessionBox: @unchecked Sendable {
    // Proof of Sendable: see ModelRunner — one user at a time, handed over through the Mutex.
    let session: Session
    init(_ session: Session) { self.session = session }
}
