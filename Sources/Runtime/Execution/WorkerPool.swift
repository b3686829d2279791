import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The intra-op threads of one session: `participants − 1` worker threads, created with the
/// session. `run(tasks:_:)` hands task indices out statically — the calling thread takes 0, P,
/// 2P…, worker w takes w, w + P… — so which thread runs a task never depends on timing, and a
/// kernel that gives each task its own output elements computes exactly what one thread would.
/// Nothing is allocated per region.
///
/// Waking a parked thread costs tens of microseconds on a busy machine, more than most layers
/// take, so a worker that finishes a region keeps polling for the next one (yielding the CPU on
/// every poll, so other processes still run) for `spinNanoseconds`, and only then parks on a
/// condition variable until the next run.
final class WorkerPool: @unchecked Sendable {
    // Sendable proof: `body` and `taskCount` are written by the caller before the releasing
    // increment of `generation` that publishes them and read by workers after an acquiring load
    // that observes it; the caller clears `body` only after every worker has decremented
    // `pending`. `sleepers` and `stopping` are guarded by `mutex`.
    let participants: Int
    /// Threads that run tasks: the workers created plus the caller. Set at the end of init;
    /// workers read it only inside a region, which the releasing publish orders after init.
    private(set) var width = 1
    static let spinNanoseconds: UInt64 = 200_000

    private let generation = Atomic<Int>(0)
    private let pending = Atomic<Int>(0)
    private var body: ((Int) -> Void)?
    private var taskCount = 0
    // Heap-allocated: pthread objects must not move, and `&property` gives no such promise.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var sleepers = 0
    private var stopping = false
    private var threads: [pthread_t] = []

    /// A pool of `participants` threads in all (the caller included); 1 creates no thread.
    init(participants: Int) {
        self.participants = Swift.max(participants, 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        var created: [pthread_t] = []
        for w in 1..<self.participants {
            let context = Unmanaged.passRetained(WorkerContext(pool: self, index: w)).toOpaque()
            var thread = pthread_t()
            guard pthread_create(&thread, nil, workerMain, context) == 0 else {
                // Creation can fail under resource limits: fewer threads, same results.
                Unmanaged<WorkerContext>.fromOpaque(context).release()
                break
            }
            created.append(thread)
        }
        threads = created
        width = created.count + 1
    }

    deinit {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        for t in threads { pthread_join(t, nil) }
        pthread_cond_destroy(wake)
        pthread_mutex_destroy(mutex)
        wake.deallocate()
        mutex.deallocate()
    }

    /// Runs `body(i)` for i in 0..<tasks across the pool and returns when all are done.
    func run(tasks: Int, _ body: (Int) -> Void) {
        let p = width
        guard tasks > 1, p > 1 else {
            for i in 0..<tasks { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escaping in
            self.body = escaping
            taskCount = tasks
            pending.store(p - 1, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
            pthread_mutex_lock(mutex)
            if sleepers > 0 { pthread_cond_broadcast(wake) }
            pthread_mutex_unlock(mutex)
            var i = 0
            while i < tasks {
                escaping(i)
                i += p
            }
            while pending.load(ordering: .acquiring) > 0 { sched_yield() }
            self.body = nil
        }
    }

    fileprivate func workerLoop(index: Int) {
        var seen = 0
        while true {
            // Poll for the next region, then park.
            let start = monotonicNanoseconds()
            while generation.load(ordering: .acquiring) == seen && monotonicNanoseconds() &- start < Self.spinNanoseconds {
                sched_yield()
            }
            if generation.load(ordering: .acquiring) == seen {
                pthread_mutex_lock(mutex)
                sleepers += 1
                while generation.load(ordering: .acquiring) == seen && !stopping { pthread_cond_wait(wake, mutex) }
                sleepers -= 1
                let stop = stopping && generation.load(ordering: .acquiring) == seen
                pthread_mutex_unlock(mutex)
                if stop { return }
            }
            seen = generation.load(ordering: .acquiring)
            if let body {
                var i = index
                while i < taskCount {
                    body(i)
                    i += width
                }
            }
            pending.subtract(1, ordering: .releasing)
        }
    }
}

/// What a worker thread starts with. The pool is referenced unowned: a strong reference would
/// keep it alive forever, and the pool's deinit joins every worker before its memory goes away.
private final class WorkerContext {
    unowned(unsafe) let pool: WorkerPool
    let index: Int

    init(pool: WorkerPool, index: Int) {
        self.pool = pool
        self.index = index
    }
}

private func workerMain(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let raw else { return nil }
    let context = Unmanaged<WorkerContext>.fromOpaque(raw).takeRetainedValue()
    context.pool.workerLoop(index: context.index)
    return nil
}
