import Foundation
import Glibc

/// Why a benchmark run could not produce its figure.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// VmRSS of this process in KiB, from /proc/self/status (0 if it cannot be read).
func rssKiB() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? 0
    }
    return 0
}

/// User + system CPU time of this process, in milliseconds.
func cpuMs() -> Double {
    var usage = rusage()
    guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
    let user = Double(usage.ru_utime.tv_sec) * 1000 + Double(usage.ru_utime.tv_usec) / 1000
    let system = Double(usage.ru_stime.tv_sec) * 1000 + Double(usage.ru_stime.tv_usec) / 1000
    return user + system
}

func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

extension Duration {
    var ms: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}

/// Prints one JSON object (sorted keys) on stdout: the line `run.sh` reads.
func emit(_ fields: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// Progress on stderr, so stdout holds only the result line.
func note(_ text: String) {
    FileHandle.standardError.write(Data("fleet-bench: \(text)\n".utf8))
}

/// Waits until `path` exists (another process of the run writes it) or the deadline passes.
func waitForFile(_ path: String, deadline: ContinuousClock.Instant, what: String) async throws {
    while !FileManager.default.fileExists(atPath: path) {
        guard ContinuousClock.now < deadline else { throw BenchError("timed out waiting for \(what) (\(path))") }
        try await Task.sleep(for: .milliseconds(100))
    }
}

/// Writes `text` to `path` atomically, so a process polling for it never reads half a file.
func writeFile(_ path: String, _ text: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
}

/// Median of a non-empty list (0 for an empty one).
func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return 0 }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return 0 }
    return s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))]
}
