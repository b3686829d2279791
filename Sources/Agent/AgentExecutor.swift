import Dispatch
import Synchronization

/// Where an agent's actor runs: a serial dispatch queue, not Swift's cooperative pool.
///
/// The agent's actor does blocking file work by design: every state change is written and
/// fsynced before its side effects, chunks are pwritten, checkpoints sync the download, the
/// outbox appends and syncs. On the cooperative pool (one thread per core) each of those waits
/// parks a thread the whole process shares; with a thousand simulated agents on two cores,
/// two agents in fsync stopped every other agent, the MQTT routing tasks and the validation
/// runs (docs/benchmarks.md, "Fleet"). On a queue of its own the actor may block in the
/// kernel without holding anyone else up, and several agents' fsyncs reach the file system
/// together (ext4 commits concurrent syncs in one journal transaction).
///
/// The isolation is unchanged: one actor, jobs one at a time in order, the same suspension
/// points. Only the thread that runs them differs.
public final class AgentExecutor: SerialExecutor {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor { UnownedSerialExecutor(ordinary: self) }

    public func checkIsolated() { dispatchPrecondition(condition: .onQueue(queue)) }
}

/// The queues agents in this process run on. A device has one agent and so one queue; a
/// simulated fleet shares `count` queues round robin (each agent stays on its queue), so a
/// thousand agents use a bounded number of threads while up to `count` of them wait on the
/// disk at once.
public enum AgentExecutors {
    /// Queues in the shared set: enough that fsync waits overlap, few enough that the
    /// threads stay cheap.
    public static let count = 16
    private static let queues: [AgentExecutor] = (0..<count).map { AgentExecutor(label: "flotilla.agent.\($0)") }
    private static let next = Atomic<Int>(0)

    /// The queue for the next agent, round robin.
    static func assign() -> AgentExecutor {
        let i = next.add(1, ordering: .relaxed).oldValue
        return queues[i % count]
    }
}
