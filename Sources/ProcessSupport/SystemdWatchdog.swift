import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// systemd's service watchdog (`WatchdogSec=`): systemd passes the deadline as `WATCHDOG_USEC`
/// and kills the service when no `WATCHDOG=1` arrives within it. Keep-alives go out at half the
/// deadline, and each one only after `probe` returned: the probe is a call into the service's
/// actor, so an actor that hangs (a deadlock, a kernel spinning on its executor) stops the pings
/// and systemd restarts the process — a timer alone would keep a wedged service "alive".
public struct SystemdWatchdog: Sendable {
    /// systemd's deadline (`WATCHDOG_USEC`).
    public let deadline: Duration

    /// Nil when systemd set no watchdog for this process: `WATCHDOG_USEC` unset, zero or not a
    /// number, or `WATCHDOG_PID` naming another process (the variables leaked to a child).
    /// `environment` and `pid` default to this process's.
    public init?(environment: [String: String]? = nil, pid: Int32? = nil) {
        let environment = environment ?? ProcessInfo.processInfo.environment
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let owner = environment["WATCHDOG_PID"], owner != String(pid ?? getpid()) { return nil }
        deadline = .microseconds(Int64(clamping: usec))
    }

    /// How often a keep-alive is sent: half the deadline, so one late ping is not fatal.
    public var keepAliveInterval: Duration { deadline / 2 }

    /// Sends `WATCHDOG=1` (with `probe`'s answer as `STATUS=` when it gives one) every
    /// `keepAliveInterval` until the task is cancelled. A probe that never returns stops the
    /// keep-alives, which is the point.
    public func run(notifier: SystemdNotifier, probe: @Sendable () async -> String?) async {
        while !Task.isCancelled {
            let status = await probe()
            if Task.isCancelled { return }
            if let status {
                notifier.notify(.watchdog, .status(status))
            } else {
                notifier.notify(.watchdog)
            }
            do { try await Task.sleep(for: keepAliveInterval) } catch { return }
        }
    }

    /// Starts `run` on a task when systemd asked for a watchdog; nil otherwise. Cancel the task
    /// before shutting down so no keep-alive follows `STOPPING=1`.
    public static func start(
        notifier: SystemdNotifier, environment: [String: String]? = nil,
        probe: @escaping @Sendable () async -> String?
    ) -> Task<Void, Never>? {
        guard notifier.isEnabled, let watchdog = SystemdWatchdog(environment: environment) else { return nil }
        return Task { await watchdog.run(notifier: notifier, probe: probe) }
    }
}
