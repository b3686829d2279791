#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The intra-op threads of one session: `participants − 1` worker threads, created with the
/// session and parked on a condition variable between parallel regions (no spinning: the
/// machines this runs on are shared). `run(tasks:_:)` hands task indices out statically — the
/// calling thread takes 0, P, 2P…, worker w takes w + 1, w + 1 + P… — so which thread runs a
/// task never depends on timing, and a kernel that gives each task its own output elements
/// computes exactly what one thread would. Nothing is allocated per region.
final class WorkerPool: @unchecked Sendable {
    // Sendable proof: every mutable field is read and written under `mutex`, except `body`,
    // which workers read only between the generation bump that publishes it and their
    // `pending` decrement, while the caller waits for `pending` to reach 0 before clearing it.
    let participants: Int
    // Heap-allocated: pthread objects must not move, and `&property` gives no such promise.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let done = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var generation = 0
    private var pending = 0
    private var taskCount = 0
    private var stopping = false
    private var body: ((Int) -> Void)?
    private var threads: [pthread_t] = []
    /// Threads that run tasks: the workers created plus the caller (set once in init, before
    /// any region can start).
    private(set) var width = 1

    /// A pool of `participants` threads in all (the caller included); 1 creates no thread.
    init(participants: Int) {
        self.participants = Swift.max(participants, 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(done, nil)
        for w in 0..<(self.participants - 1) {
            let context = Unmanaged.passRetained(WorkerContext(pool: self, index: w + 1)).toOpaque()
            var thread = pthread_t()
            if pthread_create(&thread, nil, workerMain, context) == 0 {
                threads.append(thread)
            } else {
                // Creation can fail under resource limits: fewer threads, same results.
                Unmanaged<WorkerContext>.fromOpaque(context).release()
                break
            }
        }
        pthread_mutex_lock(mutex)
        width = threads.count + 1
        pthread_mutex_unlock(mutex)
    }

    deinit {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
        for t in threads { pthread_join(t, nil) }
        pthread_cond_destroy(wake)
        pthread_cond_destroy(done)
        pthread_mutex_destroy(mutex)
        wake.deallocate()
        done.deallocate()
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
            pthread_mutex_lock(mutex)
            self.body = escaping
            taskCount = tasks
            pending = threads.count
            generation &+= 1
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
            var i = 0
            while i < tasks {
                escaping(i)
                i += p
            }
            pthread_mutex_lock(mutex)
            while pending > 0 { pthread_cond_wait(done, mutex) }
            self.body = nil
            pthread_mutex_unlock(mutex)
        }
    }

    fileprivate func workerLoop(index: Int) {
        // Regions are counted from 0, the generation at creation: a worker that starts late
        // must still take the region that was published before it first locked the mutex.
        var seen = 0
        pthread_mutex_lock(mutex)
        while true {
            while generation == seen && !stopping { pthread_cond_wait(wake, mutex) }
            if stopping {
                pthread_mutex_unlock(mutex)
                return
            }
            seen = generation
            let (body, tasks, p) = (self.body, taskCount, width)
            pthread_mutex_unlock(mutex)
            if let body {
                var i = index
                while i < tasks {
                    body(i)
                    i += p
                }
            }
            pthread_mutex_lock(mutex)
            pending -= 1
            if pending == 0 { pthread_cond_signal(done) }
        }
    }
}

/// What a worker thread starts with. The pool is referenced unowned: a strong reference would
/// keep the pool alive forever, and the pool's deinit joins every worker before its memory
/// goes away, so the reference never outlives it.
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
