import FleetProtocol
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The counters that must grow across restarts (receivers drop duplicates and stale messages
/// by them), persisted beside the update state.
struct AgentCounters: Codable, Sendable, Equatable {
    var stateReport: UInt64 = 0
    var event: UInt64 = 0
    /// Before the `connection` file: read once as its floor, no longer written.
    var connection: UInt64 = 0
    var telemetry: UInt64 = 0
}

/// The data directory's layout and its durable files:
///
///     state.json           UpdateState (written before every side effect)
///     counters.json        AgentCounters
///     connection           the last connection attempt's sequence (ConnectionSequence)
///     outbox.jsonl         events not yet acknowledged (+ outbox.acked: how many lines were)
///     downloads/<digest>.part, .progress
///     slots/a/model.flt, slots/b/model.flt
///     current              the committed slot's name ("a" or "b"), replaced atomically
struct AgentStore: Sendable {
    let root: String

    init(root: String) throws(AgentError) {
        self.root = root
        for dir in [root, "\(root)/downloads", "\(root)/slots/a", "\(root)/slots/b"] { try DurableFile.makeDirectory(dir) }
    }

    var statePath: String { "\(root)/state.json" }
    var countersPath: String { "\(root)/counters.json" }
    var connectionPath: String { "\(root)/connection" }
    var currentPath: String { "\(root)/current" }
    func slotPath(_ slot: Slot) -> String { "\(root)/slots/\(slot.rawValue)/model.flt" }
    func slotDirectory(_ slot: Slot) -> String { "\(root)/slots/\(slot.rawValue)" }

    /// Empties the slot: the model and whatever an install killed mid-way left beside it (the
    /// decompressor's `model.flt.unpacking-<pid>` temporary).
    func eraseSlot(_ slot: Slot) {
        let dir = slotDirectory(slot)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] { unlink("\(dir)/\(name)") }
    }
    func downloadPath(_ digest: String) -> String { "\(root)/downloads/\(digest).part" }
    func progressPath(_ digest: String) -> String { "\(root)/downloads/\(digest).progress" }

    func loadState() throws(AgentError) -> UpdateState { try load(UpdateState.self, statePath) ?? UpdateState() }
    func saveState(_ s: UpdateState) throws(AgentError) { try save(s, statePath) }
    func loadCounters() throws(AgentError) -> AgentCounters { try load(AgentCounters.self, countersPath) ?? AgentCounters() }
    func saveCounters(_ c: AgentCounters) throws(AgentError) { try save(c, countersPath) }

    func loadProgress(_ digest: String) -> ChunkProgress? {
        guard let bytes = DurableFile.read(progressPath(digest)) else { return nil }
        return try? JSONDecoder().decode(ChunkProgress.self, from: Data(bytes))
    }
    func saveProgress(_ p: ChunkProgress) throws(AgentError) { try save(p, progressPath(p.plan.artifactDigest)) }
    func removeDownload(_ digest: String) {
        unlink(downloadPath(digest))
        unlink(progressPath(digest))
    }

    /// The committed slot, as the pointer file says.
    func currentSlot() -> Slot? {
        guard let bytes = DurableFile.read(currentPath) else { return nil }
        return Slot(rawValue: String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
    func setCurrentSlot(_ slot: Slot) throws(AgentError) { try DurableFile.replace(currentPath, with: Array(slot.rawValue.utf8)) }

    private func load<T: Decodable>(_ type: T.Type, _ path: String) throws(AgentError) -> T? {
        guard let bytes = DurableFile.read(path) else { return nil }
        do { return try JSONDecoder().decode(type, from: Data(bytes)) } catch {
            throw .corruptStateFile(path: path, detail: "\(error)")
        }
    }

    private func save<T: Encodable>(_ value: T, _ path: String) throws(AgentError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do { data = try encoder.encode(value) } catch { throw .fileOperationFailed(path: path, operation: "encode", detail: "\(error)") }
        try DurableFile.replace(path, with: Array(data))
    }
}
