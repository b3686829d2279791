import Foundation
import Glibc

/// VmRSS of this process in KiB, read from /proc/self/status as the C peer does.
func residentKiB() throws(BenchmarkError) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
        throw BenchmarkError("cannot read /proc/self/status; this benchmark needs Linux procfs")
    }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let digits = line.dropFirst("VmRSS:".count).filter(\.isNumber)
        if let kib = Int(digits) { return kib }
    }
    throw BenchmarkError("/proc/self/status has no readable VmRSS line")
}

/// CPU time (user + system, all threads) and minor page faults of this process so far.
struct ProcessUsage {
    var cpuMs: Double
    var minorFaults: Int

    static func now() -> ProcessUsage {
        var u = rusage()
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u) == 0 else { return ProcessUsage(cpuMs: 0, minorFaults: 0) }
        let ms = { (t: timeval) in Double(t.tv_sec) * 1000 + Double(t.tv_usec) / 1000 }
        return ProcessUsage(cpuMs: ms(u.ru_utime) + ms(u.ru_stime), minorFaults: Int(u.ru_minflt))
    }
}

/// CPU time of the event loop's thread in ms, from /proc/self/task/*/stat (clock-tick
/// resolution, 10 ms: enough for runs of 100 ms and more).
///
/// Foundation on Linux does not apply a `Thread.name` set before `start()`, so the loop thread
/// keeps the process's name. It is the one thread other than the main thread with that name:
/// libdispatch names its workers after their queues.
func eventLoopThreadCPUMs() -> Double {
    let processName = (try? String(contentsOfFile: "/proc/self/comm", encoding: .utf8)) ?? ""
    let pid = String(getpid())
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    var total = 0.0
    for tid in tasks where tid != pid {
        guard let comm = try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8), comm == processName,
            let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { continue }
        // After "(comm)" come state (field 3) ... utime (14) and stime (15); proc(5).
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
        total += (user + system) / ticksPerSecond * 1000
    }
    return total
}

func milliseconds(_ d: Duration) -> Double {
    let (s, atto) = d.components
    return Double(s) * 1000 + Double(atto) / 1e15
}
