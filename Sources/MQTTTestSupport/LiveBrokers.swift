import Foundation
import Glibc
import Synchronization

/// Every broker process started by this test process, so that none outlives it.
///
/// deinit kills a broker that is dropped; this registry covers the cases deinit never sees:
/// brokers still referenced when the test process calls exit() (XCTest does, after the last
/// test), which the atexit handler kills. A process killed by a signal runs no handler at all;
/// for that, brokers are recognizable by their command line (`pkill -f flotilla-test-broker`).
enum LiveBrokers {
    struct Entry: Sendable {
        var directory: URL
        var port: Int
        var process: Process?
        /// A directory kept after a failed start, for the error message's config path to exist.
        var keepDirectory = false
    }

    private static let entries = Mutex<[Int: Entry]>([:])
    private static let lastSerial = Atomic<Int>(0)
    private static let exitHandler = Mutex<Bool>(false)

    /// A new identity for a broker, and the exit handler installed if it was not yet.
    static func register(directory: URL, port: Int) -> Int {
        installExitHandler()
        let serial = lastSerial.add(1, ordering: .relaxed).newValue
        entries.withLock { $0[serial] = Entry(directory: directory, port: port) }
        return serial
    }

    static func update(_ serial: Int, _ change: (inout Entry) -> Void) {
        entries.withLock { entries in
            if var entry = entries[serial] {
                change(&entry)
                entries[serial] = entry
            }
        }
    }

    static func remove(_ serial: Int) {
        _ = entries.withLock { $0.removeValue(forKey: serial) }
    }

    /// Ports held by live brokers, which a new broker must not be given.
    static var ports: Set<Int> {
        entries.withLock { Set($0.values.map(\.port)) }
    }

    /// SIGKILLs every broker still running and removes its directory.
    static func killAll() {
        let all = entries.withLock { entries in
            defer { entries.removeAll() }
            return Array(entries.values)
        }
        for entry in all {
            if let process = entry.process, process.isRunning {
                kill(process.processIdentifier, SIGKILL)
            }
            if !entry.keepDirectory {
                try? FileManager.default.removeItem(at: entry.directory)
            }
        }
    }

    private static func installExitHandler() {
        let install = exitHandler.withLock { installed in
            defer { installed = true }
            return !installed
        }
        if install {
            atexit { LiveBrokers.killAll() }
        }
    }
}
