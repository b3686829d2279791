import Foundation
import Glibc

/// Starting and stopping the node and its epmd.
extension RabbitMQBroker {
    /// Starts epmd and a RabbitMQ node with the MQTT plugin, and returns once the MQTT listener
    /// answers a CONNECT. Throws `RabbitMQBrokerError` (with the log tail; the directory is then
    /// removed with the broker) when it is not installed, exits, or is not ready in 120 s.
    public static func start(_ options: Options = .init()) async throws -> RabbitMQBroker {
        guard let script = serverScript, let epmdURL = epmdExecutable else {
            throw RabbitMQBrokerError(.notInstalled, notInstalledMessage)
        }
        let files = try BrokerFiles.makeDirectory()
        let nodeName = files.directory.lastPathComponent + "@localhost"
        let ports: RabbitMQPorts
        let environment: [String: String]
        do {
            ports = try RabbitMQPorts.reserve()
            environment = try writeFiles(in: files.directory, ports: ports, nodeName: nodeName, options: options)
        } catch {
            try? FileManager.default.removeItem(at: files.directory)
            throw error
        }
        let directory = files.directory
        let console = directory.appendingPathComponent("console.log")
        // epmd in the foreground, as this process's child: it goes away with the broker.
        let epmd = try await BlockingWork.run {
            try spawn(
                epmdURL, ["-port", String(ports.epmd), "-address", "127.0.0.1"], environment: environment, directory: directory,
                output: console)
        }
        let node: Process
        do {
            node = try await BlockingWork.run { try spawn(script, [], environment: environment, directory: directory, output: console) }
        } catch {
            Glibc.kill(epmd.processIdentifier, SIGKILL)
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        let broker = RabbitMQBroker(ports: ports, nodeName: nodeName, directory: directory, options: options, node: node, epmd: epmd)
        try await broker.waitUntilReady()
        return broker
    }

    /// SIGTERM to the node (RabbitMQ stops its listeners and closes connections), then to epmd.
    /// If the node has not exited in 30 s it is killed and `.brokerDidNotStop` is thrown.
    public func stop() async throws {
        defer { stopEpmd() }
        guard node.isRunning else { return }
        node.terminate()
        let deadline = ContinuousClock.now + Self.stopTimeout
        while node.isRunning {
            if ContinuousClock.now >= deadline {
                Glibc.kill(node.processIdentifier, SIGKILL)
                throw RabbitMQBrokerError(
                    .brokerDidNotStop, "RabbitMQ node \(nodeName) did not exit within \(Self.stopTimeout) of SIGTERM and was killed",
                    directory: directory.path, logTail: logTail())
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// SIGKILL: no clean shutdown, as in a crash.
    public func kill() {
        for process in [node, epmd] where process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
    }

    private func stopEpmd() {
        guard epmd.isRunning else { return }
        epmd.terminate()
        for _ in 0..<200 where epmd.isRunning { usleep(10_000) }
        if epmd.isRunning { Glibc.kill(epmd.processIdentifier, SIGKILL) }
    }

    /// Polls until the MQTT listener accepts a CONNECT: the port is bound a moment before the
    /// plugin's session machinery is up.
    func waitUntilReady() async throws {
        let deadline = ContinuousClock.now + Self.startTimeout
        while true {
            for (what, process) in [("node", node), ("epmd", epmd)] where !process.isRunning {
                kill()
                throw RabbitMQBrokerError(
                    .brokerExited,
                    "the RabbitMQ \(what) exited with status \(process.terminationStatus) while starting (MQTT port \(port), epmd port \(epmdPort)); the log below says why",
                    directory: directory.path, logTail: logTail())
            }
            if LoopbackPort.acceptsConnections(port),
                MQTTConnectProbe.accepts(port: port, clientID: "probe-\(port)")
            {
                return
            }
            if ContinuousClock.now >= deadline {
                let tail = logTail()
                kill()
                throw RabbitMQBrokerError(
                    .brokerNotReady,
                    "RabbitMQ's MQTT listener on 127.0.0.1:\(port) did not accept a CONNECT within \(Self.startTimeout); the machine may be overloaded, or the log shows it stuck",
                    directory: directory.path, logTail: tail)
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    static func spawn(_ executable: URL, _ arguments: [String], environment: [String: String], directory: URL, output: URL) throws
        -> Process
    {
        let fm = FileManager.default
        if !fm.fileExists(atPath: output.path) { _ = fm.createFile(atPath: output.path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: output.path) else {
            throw RabbitMQBrokerError(.fileSystem, "cannot open \(output.path) for the broker's output")
        }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = handle
        process.standardError = handle
        do { try ChildProcess.launch(process) } catch {
            throw RabbitMQBrokerError(
                .notInstalled, "cannot launch \(executable.path): \(error); check that it is installed and executable")
        }
        return process
    }
}
