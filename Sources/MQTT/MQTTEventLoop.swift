internal import CMosquitto
import Foundation
import Glibc
import Synchronization

/// One thread that drives many MQTT clients through epoll.
///
/// libmosquitto's own loops use select(), which breaks for file descriptors ≥ 1024, and a thread
/// per client does not scale to a simulated fleet of 1000+ devices on two cores. Here every
/// registered client's socket sits in one epoll set and the loop calls libmosquitto's
/// external-loop functions (`mosquitto_loop_read`, `_loop_write`, `_loop_misc`) for it.
///
/// Threading contract: every libmosquitto call for a connected client happens on this loop's
/// thread (the only exception is the blocking connect, which runs on a connect worker while the
/// loop does not touch that client). Other threads hand work to the loop with `execute`, which
/// wakes it through an eventfd.
public final class MQTTEventLoop: Sendable {
    /// The loop most programs need: created on first use, lives as long as the process.
    public static let shared = MQTTEventLoop(name: "flotilla.mqtt.loop")

    // Proof of Sendable: `epollFD` and `wakeFD` are immutable after init; the queue of pending
    // work is behind a Mutex; `state` is touched only on the loop thread (see LoopState).
    private let epollFD: Int32
    private let wakeFD: Int32
    private let pending = Mutex<[@Sendable () -> Void]>([])
    private let stopped = Atomic<Bool>(false)
    nonisolated(unsafe) private let state = LoopState()

    /// Serialises blocking connects off the loop thread; several run at once so one slow broker
    /// address does not hold up the rest.
    let connectQueue = DispatchQueue(label: "flotilla.mqtt.connect", attributes: .concurrent)

    public init(name: String = "flotilla.mqtt.loop") {
        raiseOpenFileLimit()
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = eventfd(0, Int32(EFD_CLOEXEC) | Int32(EFD_NONBLOCK))
        precondition(epollFD >= 0 && wakeFD >= 0, "epoll/eventfd unavailable: \(String(cString: strerror(errno)))")
        var ev = epoll_event()
        ev.events = EPOLLIN.rawValue
        ev.data.u64 = 0
        _ = epoll_ctl(epollFD, EPOLL_CTL_ADD, wakeFD, &ev)
        let thread = Thread { [self] in self.run() }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Runs `work` on the loop thread, soon.
    func execute(_ work: @escaping @Sendable () -> Void) {
        pending.withLock { $0.append(work) }
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// Stops the thread after the current iteration. Clients still registered are left as they
    /// are; stop only a loop whose clients are closed.
    public func shutdown() {
        stopped.store(true, ordering: .relaxed)
        execute {}
    }

    // MARK: loop-thread API (call only from work run by `execute` or from client callbacks)

    /// Adds or updates a client's socket in the epoll set. Interest in writability follows
    /// `mosquitto_want_write`, so an idle client costs no wake-ups.
    func watch(_ client: ClientCore, fd: Int32, wantWrite: Bool) {
        let events = EPOLLIN.rawValue | EPOLLRDHUP.rawValue | (wantWrite ? EPOLLOUT.rawValue : 0)
        if let current = state.watched[client.token] {
            if current.fd == fd && current.events == events { return }
            if current.fd == fd {
                var ev = epoll_event(events: events, data: epoll_data_t(u64: client.token))
                _ = epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &ev)
                state.watched[client.token] = (fd, events)
                return
            }
            unwatch(client)
        }
        var ev = epoll_event(events: events, data: epoll_data_t(u64: client.token))
        if epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &ev) == 0 {
            state.watched[client.token] = (fd, events)
            state.clients[client.token] = client
        }
    }

    /// Removes a client's socket from the epoll set (the socket may already be closed, in which
    /// case the kernel dropped it from the set already).
    func unwatch(_ client: ClientCore) {
        if let current = state.watched.removeValue(forKey: client.token) {
            var ev = epoll_event()
            _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, current.fd, &ev)
        }
    }

    /// Keeps a client in the periodic scan (keepalive, reconnect timers) until `forget`.
    func adopt(_ client: ClientCore) { state.clients[client.token] = client }

    func forget(_ client: ClientCore) {
        unwatch(client)
        state.clients.removeValue(forKey: client.token)
    }

    /// Asks the loop to wake by `deadline` for a client's timer (reconnect, connect timeout).
    func wake(by deadline: ContinuousClock.Instant) {
        if deadline < state.nextTimer { state.nextTimer = deadline }
    }

    // MARK: the loop

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        var nextMisc = ContinuousClock.now
        while !stopped.load(ordering: .relaxed) {
            let now = ContinuousClock.now
            let deadline = min(nextMisc, state.nextTimer)
            let timeoutMs = max(0, min(1000, Int((deadline - now).seconds * 1000) + 1))
            let n = events.withUnsafeMutableBufferPointer {
                epoll_wait(epollFD, $0.baseAddress, Int32($0.count), Int32(timeoutMs))
            }
            if n > 0 {
                for i in 0..<Int(n) {
                    let token = events[i].data.u64
                    if token == 0 {
                        drainWakeups()
                        continue
                    }
                    guard let client = state.clients[token] else { continue }
                    client.handleIO(
                        readable: events[i].events & (EPOLLIN.rawValue | EPOLLERR.rawValue | EPOLLHUP.rawValue | EPOLLRDHUP.rawValue) != 0,
                        writable: events[i].events & EPOLLOUT.rawValue != 0)
                }
            }
            runPending()
            let after = ContinuousClock.now
            if after >= nextMisc || after >= state.nextTimer {
                state.nextTimer = after + .seconds(3600)
                for client in Array(state.clients.values) { client.tick(now: after) }
                if after >= nextMisc { nextMisc = after + .milliseconds(500) }
            }
        }
    }

    private func drainWakeups() {
        var value: UInt64 = 0
        _ = read(wakeFD, &value, 8)
    }

    private func runPending() {
        // Work may enqueue more work; run until the queue is empty so nothing waits a full
        // epoll timeout.
        while true {
            let work = pending.withLock { q -> [@Sendable () -> Void] in
                let w = q
                q.removeAll(keepingCapacity: true)
                return w
            }
            if work.isEmpty { return }
            for w in work { w() }
        }
    }
}

/// State owned by the loop thread alone.
private final class LoopState {
    var clients: [UInt64: ClientCore] = [:]
    var watched: [UInt64: (fd: Int32, events: UInt32)] = [:]
    var nextTimer = ContinuousClock.now + .seconds(3600)
}

/// Each client holds three descriptors (socket and libmosquitto's socket pair); a simulated fleet
/// of a thousand devices needs more than the common soft limit of 1024.
private func raiseOpenFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}
