import Foundation

/// The kernel's accounting of this process's memory (Linux /proc), for tests that bound what an
/// operation holds at its peak.
public enum ProcessMemory {
    /// A field of /proc/self/status in bytes (VmHWM = peak resident set, VmRSS = current); nil
    /// where /proc is missing or the field is not there.
    public static func statusField(_ name: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kib = Int(fields[1].filter(\.isNumber)) { return kib * 1024 }
        }
        return nil
    }

    /// Resets VmHWM to the current RSS (Linux ≥ 4.0), so a later VmHWM is the peak of what ran
    /// in between. Returns false where the kernel does not allow it.
    public static func resetPeak() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data("5".utf8))
            return true
        } catch {
            return false
        }
    }
}
