public import Foundation
import Glibc
import Synchronization

/// Launching child processes that can receive signals.
///
/// A child started with posix_spawn inherits the signal mask of the thread that spawns it, and
/// Foundation's `Process.run()` does not reset it. Threads of Dispatch and of Swift's
/// cooperative pool block almost every signal, so a child launched from them starts with
/// SIGTERM, SIGALRM and SIGINT blocked: mosquitto then never acts on SIGTERM (stop() would
/// time out and the database would not be saved) and `mosquitto_sub -W` never times out.
/// `launch` runs `Process.run()` on a fresh thread whose signal mask is empty.
public enum ChildProcess {
    /// Runs `process` (configured, not yet started) with an empty inherited signal mask.
    /// Blocks the caller for as long as the spawn takes (milliseconds).
    public static func launch(_ process: Process) throws {
        let outcome = Mutex<Result<Void, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let spawner = Thread {
            var nothing = sigset_t()
            sigemptyset(&nothing)
            pthread_sigmask(SIG_SETMASK, &nothing, nil)
            let result = Result<Void, any Error> { try process.run() }
            // Block again before the thread ends so no process-directed signal lands here.
            var everything = sigset_t()
            sigfillset(&everything)
            pthread_sigmask(SIG_SETMASK, &everything, nil)
            outcome.withLock { $0 = result }
            done.signal()
        }
        spawner.name = "flotilla-child-spawner"
        spawner.start()
        done.wait()
        try outcome.withLock { $0 ?? .success(()) }.get()
    }
}

extension Process {
    /// Waits for the child to exit by polling `isRunning`. Foundation's `waitUntilExit()` spins
    /// the calling thread's run loop on Linux; called from a Swift-concurrency worker (there are
    /// only as many as cores) it can busy-loop and starve the very tasks the test waits for
    /// (seen as a hung test run on 2 cores).
    public func waitForExit(pollInterval: useconds_t = 5_000) {
        while isRunning { usleep(pollInterval) }
    }
}
