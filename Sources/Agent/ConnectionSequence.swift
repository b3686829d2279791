import FleetProtocol
import Foundation
import Synchronization

/// The connection sequence: one number per connection attempt, persisted before the attempt, so
/// the online message and the last will of one connection carry the same number and every later
/// connection a higher one (a late will from an old connection then never marks a live device
/// offline: `OnlineStatus.supersedes`).
///
/// Called from the MQTT event loop thread just before CONNECT (`MQTTConfiguration
/// .willProvider`), hence a lock and its own file instead of the actor's counters.
final class ConnectionSequence: Sendable {
    private let path: String
    private let value: Mutex<UInt64>

    /// `floor`: the sequence agents before this file kept in counters.json.
    init(path: String, floor: UInt64) {
        self.path = path
        let stored = DurableFile.read(path).flatMap { UInt64(String(decoding: $0, as: UTF8.self)) } ?? 0
        value = Mutex(max(stored, floor))
    }

    /// The sequence of the current (or last) connection attempt.
    var current: UInt64 { value.withLock { $0 } }

    /// Takes the next sequence and persists it before returning. A failed write is logged and
    /// the number still used: it only has to grow while the process lives, and after a restart
    /// a lost write costs at most an equal number (a will then ties with an online message of
    /// the same sequence, which `supersedes` resolves as offline — the safe side).
    func next() -> UInt64 {
        value.withLock { v in
            v += 1
            do { try DurableFile.replace(path, with: Array(String(v).utf8)) } catch {
                FileHandle.standardError.write(Data("flotilla-agent: cannot persist the connection sequence: \(error)\n".utf8))
            }
            return v
        }
    }
}
