import Foundation
import Glibc

/// The open-file limit of this process, which brokers and clients started from it inherit.
enum OpenFileLimit {
    /// Raises the soft RLIMIT_NOFILE to the hard limit and returns the resulting soft limit.
    ///
    /// A thousand MQTT clients in one test process need more than 3000 descriptors (three per
    /// client) while the usual soft default is 1024; the broker, started after this, inherits the
    /// raised limit too. When the hard limit is unlimited, the kernel's per-process maximum
    /// (/proc/sys/fs/nr_open) is the most that can be set. Failure is not an error: tests that
    /// need many descriptors report their own shortfall.
    @discardableResult
    static func raiseSoftLimitToHardLimit() -> UInt64 {
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return 0 }
        var target = limit.rlim_max
        if target == rlim_t.max {  // RLIM_INFINITY, which Swift imports as an overflowing literal
            target = kernelMaximum() ?? limit.rlim_cur
        }
        guard target > limit.rlim_cur else { return UInt64(limit.rlim_cur) }
        var raised = limit
        raised.rlim_cur = target
        if setrlimit(resource, &raised) == 0 { return UInt64(target) }
        return UInt64(limit.rlim_cur)
    }

    /// The current soft limit.
    static var current: UInt64 {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        return UInt64(limit.rlim_cur)
    }

    private static func kernelMaximum() -> rlim_t? {
        guard let text = try? String(contentsOfFile: "/proc/sys/fs/nr_open", encoding: .utf8),
            let value = rlim_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return nil }
        return value
    }
}
