import Foundation
import Glibc

/// Starting, stopping, killing and restarting the broker process.
extension MosquittoBroker {
    /// Stops the broker with SIGTERM and waits for it to exit; with persistence on, mosquitto
    /// saves its database before exiting. Does nothing if it is not running. If it has not
    /// exited after 15 s it is killed and `.brokerDidNotStop` is thrown; if the calling task is
    /// cancelled while waiting, it is killed without the error.
    public func stop() async throws {
        guard let process = state.withLock({ $0.process }), process.isRunning else { return }
        process.terminate()
        let deadline = ContinuousClock.now + Self.stopTimeout
        // mosquitto 2.0 sets its `run` flag to 1 just before entering its main loop, after the
        // listener already accepts connections: a SIGTERM that lands in that window is
        // forgotten. Repeating SIGTERM every half second closes the race without giving up the
        // clean (persistence-saving) shutdown.
        var nextTerm = ContinuousClock.now + .milliseconds(500)
        while process.isRunning {
            if ContinuousClock.now >= nextTerm {
                process.terminate()
                nextTerm = ContinuousClock.now + .milliseconds(500)
            }
            if ContinuousClock.now >= deadline || Task.isCancelled {
                let cancelled = Task.isCancelled
                kill()
                if cancelled { return }
                throw MosquittoBrokerError(
                    .brokerDidNotStop,
                    "mosquitto (pid \(process.processIdentifier)) did not exit within \(Self.stopTimeout) of SIGTERM and was killed; its log may say what it was doing",
                    configPath: files.config.path, logTail: logTail())
            }
            try? await Task.sleep(for: Self.pollInterval)
        }
    }

    /// Kills the broker with SIGKILL: no database save, no clean disconnects, as in a crash.
    /// Returns once the process has exited (SIGKILL cannot be caught, so this takes
    /// milliseconds; the wait is bounded at 2 s).
    public func kill() {
        guard let process = state.withLock({ $0.process }), process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        for _ in 0..<2000 where process.isRunning {
            usleep(1000)
        }
    }

    /// Starts the broker again on the same port with the same config (and, with persistence,
    /// the saved database). Stops it first if it is running.
    public func restart() async throws {
        if isRunning { try await stop() }
        // While the broker was down, a client's outgoing connection may have been given this
        // port as its ephemeral source port; such a connection is short-lived, so wait and retry.
        let attempts = 10
        for attempt in 1...attempts {
            do {
                try await launch(port: port)
                return
            } catch let error as MosquittoBrokerError where error.code == .portInUse && attempt < attempts {
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    /// Picks a free port and launches; if another process takes the port between the check
    /// and mosquitto's bind, picks another one.
    func launchOnFreePort() async throws {
        let attempts = 5
        for attempt in 1...attempts {
            let port = try LoopbackPort.reserveFree(avoiding: LiveBrokers.ports)
            do {
                try await launch(port: port)
                return
            } catch let error as MosquittoBrokerError where error.code == .portInUse && attempt < attempts {
                continue
            }
        }
    }

    /// Writes the config for `port`, runs mosquitto and waits until it accepts connections.
    func launch(port: Int) async throws {
        state.withLock { $0.port = port }
        LiveBrokers.update(serial) { $0.port = port }
        let logOffset = BrokerFiles.size(of: files.log)
        let consoleOffset = BrokerFiles.size(of: files.console)
        let process: Process
        do {
            try writeConfiguration(port: port)
            process = try await BlockingWork.run { [files, executable] in
                try Self.spawn(executable, files: files)
            }
        } catch {
            keepDirectoryForInspection()
            throw error
        }
        state.withLock { $0.process = process }
        LiveBrokers.update(serial) { $0.process = process }
        do {
            try await waitUntilReady(process, port: port, logOffset: logOffset, consoleOffset: consoleOffset)
        } catch {
            if process.isRunning { kill() }
            // A cancelled start is not a failure to diagnose; only keep files the error names.
            if error is MosquittoBrokerError { keepDirectoryForInspection() }
            throw error
        }
        state.withLock { $0.keepDirectory = false }
        LiveBrokers.update(serial) { $0.keepDirectory = false }
    }

    /// Runs `mosquitto -c <dir>/mosquitto.conf`, stdout and stderr appended to console.log.
    static func spawn(_ executable: CommandLineTool, files: BrokerFiles) throws -> Process {
        let fm = FileManager.default
        if !fm.fileExists(atPath: files.console.path) {
            _ = fm.createFile(atPath: files.console.path, contents: nil)
        }
        guard let console = FileHandle(forWritingAtPath: files.console.path) else {
            throw MosquittoBrokerError(.fileSystem, "cannot open \(files.console.path) for the broker's output")
        }
        defer { try? console.close() }
        _ = try? console.seekToEnd()
        let process = Process()
        process.executableURL = executable.url
        // The config path (under flotilla-test-broker-…) is the recognizable argument.
        process.arguments = ["-c", files.config.path]
        process.currentDirectoryURL = files.directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = console
        process.standardError = console
        do {
            try ChildProcess.launch(process)
        } catch {
            throw MosquittoBrokerError(
                .toolFailed, "cannot launch \(executable.url.path): \(error); check that mosquitto is installed and executable",
                configPath: files.config.path)
        }
        return process
    }

    /// Polls every 20 ms until mosquitto has logged that it runs and a TCP connect succeeds.
    ///
    /// Both are required: a connect alone may reach another process that holds the port while
    /// this mosquitto is about to fail its bind.
    private func waitUntilReady(_ process: Process, port: Int, logOffset: UInt64, consoleOffset: UInt64) async throws {
        let deadline = ContinuousClock.now + Self.startTimeout
        while true {
            let newLog = BrokerFiles.text(of: files.log, from: logOffset)
            if !process.isRunning {
                let tail = logTail(logOffset: logOffset, consoleOffset: consoleOffset)
                if newLog.contains("Address already in use") {
                    throw MosquittoBrokerError(
                        .portInUse, "port \(port) on 127.0.0.1 is taken by another process; stop it or let the broker pick another port",
                        configPath: files.config.path, logTail: tail)
                }
                let how =
                    process.terminationReason == .exit
                    ? "exited with status \(process.terminationStatus)" : "was killed by signal \(process.terminationStatus)"
                throw MosquittoBrokerError(
                    .brokerExited,
                    "mosquitto \(how) while starting on port \(port); the log below says why (often a bad extraConfig line or unreadable file)",
                    configPath: files.config.path, logTail: tail)
            }
            if Self.logSaysRunning(newLog), LoopbackPort.acceptsConnections(port) {
                return
            }
            if ContinuousClock.now >= deadline {
                throw MosquittoBrokerError(
                    .brokerNotReady,
                    "mosquitto did not accept connections on 127.0.0.1:\(port) within \(Self.startTimeout); the machine may be overloaded, or the log shows it stuck",
                    configPath: files.config.path, logTail: logTail(logOffset: logOffset, consoleOffset: consoleOffset))
            }
            try await Task.sleep(for: Self.pollInterval)
        }
    }

    /// mosquitto logs "mosquitto version X running" once its listeners are bound.
    static func logSaysRunning(_ log: String) -> Bool {
        log.split(separator: "\n").contains { $0.contains("mosquitto version") && $0.hasSuffix(" running") }
    }

    /// The last lines the broker wrote to its log and console since the given offsets.
    func logTail(logOffset: UInt64 = 0, consoleOffset: UInt64 = 0, lines: Int = 30) -> String {
        let log = BrokerFiles.text(of: files.log, from: logOffset)
        let console = BrokerFiles.text(of: files.console, from: consoleOffset)
        var tail = log.split(separator: "\n").suffix(lines).joined(separator: "\n")
        if !console.isEmpty {
            tail += "\n--- stdout/stderr ---\n" + console.split(separator: "\n").suffix(lines).joined(separator: "\n")
        }
        return tail
    }

    private func keepDirectoryForInspection() {
        state.withLock { $0.keepDirectory = true }
        LiveBrokers.update(serial) { $0.keepDirectory = true }
    }
}
