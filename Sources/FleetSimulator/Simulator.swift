import Agent
import FleetProtocol
import Foundation

/// A fleet of real agents in one process: each device is an `AgentService` with its own MQTT
/// connection (all connections share the MQTT module's one epoll thread), data directory,
/// hardware class and injected faults. Devices start at `connectsPerSecond`; `stop` shuts
/// them down in reverse order.
public actor Simulator {
    public nonisolated let config: SimulatorConfig
    public nonisolated let plan: FaultPlan
    /// Each device's class, by index.
    public nonisolated let classes: [String]
    public private(set) var devices: [SimulatedDevice] = []
    private var startedAt = ContinuousClock.now
    private var stopping = false
    /// (device, rolled-back release, time) already counted.
    private var seenRollbacks: Set<String> = []
    private var rollbackReasons: [String: Int] = [:]
    private var rollbacksByClass: [String: Int] = [:]

    public init(config: SimulatorConfig) {
        self.config = config
        classes = config.classMix.assign(count: config.deviceCount)
        plan = FaultPlan(faults: config.faults, classes: classes, seed: config.seed)
    }

    /// Raises the open-file limit, then builds and connects every device at the configured
    /// rate; returns once every device is connected and its agent started (or on the first
    /// device that cannot be set up, after stopping the ones started).
    public func start() async throws(SimulatorError) {
        try OpenFileLimit.ensure(OpenFileLimit.needed(devices: config.deviceCount))
        do { try FileManager.default.createDirectory(at: config.dataRoot, withIntermediateDirectories: true) } catch {
            throw .invalidOption(option: "--data-dir", value: config.dataRoot.path, detail: "cannot be created: \(error)")
        }
        startedAt = .now
        let gap = Duration.milliseconds(Int64(1000 / config.connectsPerSecond))
        let failures = FirstFailure()
        await withTaskGroup(of: Void.self) { group in
            var next = ContinuousClock.now
            for (index, hardwareClass) in classes.enumerated() {
                if stopping || failures.value != nil || Task.isCancelled { break }
                let device: SimulatedDevice
                do throws(SimulatorError) {
                    device = try SimulatedDevice(index: index, hardwareClass: hardwareClass, config: config, plan: plan)
                } catch {
                    failures.record(error)
                    break
                }
                devices.append(device)
                group.addTask {
                    do throws(SimulatorError) { try await device.start() } catch { failures.record(error) }
                }
                next += gap
                try? await Task.sleep(until: next, clock: .continuous)
            }
            await group.waitForAll()
        }
        let failure = failures.value
        if let failure {
            await stop()
            throw failure
        }
    }

    /// Stops every device, newest first: workload and faults, then the agent (it reports
    /// offline), then its connection. Devices stop in parallel batches so a thousand take
    /// seconds, not minutes.
    public func stop() async {
        stopping = true
        let all = Array(devices.reversed())
        let batch = 100
        var start = 0
        while start < all.count {
            let slice = all[start..<min(all.count, start + batch)]
            await withTaskGroup(of: Void.self) { group in
                for d in slice { group.addTask { await d.stop() } }
            }
            start += batch
        }
    }

    /// The fleet now, from each agent's own state report.
    public func summary() async -> FleetSummary {
        var cells: [FleetSummary.Cell: Int] = [:]
        var totals: [String: FleetSummary.ClassTotals] = [:]
        for name in config.classMix.weights.map(\.name) {
            totals[name] = .init(hardwareClass: name, devices: classes.filter { $0 == name }.count, online: 0, downloading: 0, rollbacks: 0)
        }
        var online = 0, downloading = 0, drops = 0
        var killed: [KilledDownload] = []
        for d in devices {
            let report = await d.agent.stateReport()
            let release = report.running.map { $0.modelVersion } ?? "-"
            // A killed device's last agent still answers, but the device is down until the
            // new agent starts.
            let dead = d.isDead
            let phase = dead ? "down" : report.phase
            cells[FleetSummary.Cell(hardwareClass: d.hardwareClass, release: release, phase: phase, devices: 0), default: 0] += 1
            for var k in d.kills {
                k.phase = phase
                k.runningRelease = report.running?.modelVersion
                killed.append(k)
            }
            if d.isOnline {
                online += 1
                totals[d.hardwareClass]?.online += 1
            }
            if !dead, report.phase == UpdatePhaseKind.downloading.rawValue {
                downloading += 1
                totals[d.hardwareClass]?.downloading += 1
            }
            drops += d.droppedConnections
            if let r = report.lastRollback, seenRollbacks.insert("\(d.deviceID)#\(r.releaseSequence)@\(r.atMs)").inserted {
                rollbackReasons[r.reason.code.rawValue, default: 0] += 1
                rollbacksByClass[d.hardwareClass, default: 0] += 1
            }
        }
        for (c, n) in rollbacksByClass { totals[c]?.rollbacks = n }
        return FleetSummary(
            elapsedSeconds: (ContinuousClock.now - startedAt).secondsValue, devices: config.deviceCount, started: devices.count,
            online: online, downloadsInFlight: downloading, rollbacks: seenRollbacks.count, rollbackReasons: rollbackReasons,
            droppedConnections: drops, kills: killed.count, resumedDownloads: killed.filter { $0.resumedFromChunks != nil }.count,
            killedDownloads: killed.sorted { $0.atSeconds < $1.atSeconds },
            cells: cells.map {
                var c = $0.key
                c.devices = $0.value
                return c
            }.sorted {
                ($0.hardwareClass, $0.release, $0.phase) < ($1.hardwareClass, $1.release, $1.phase)
            },
            classes: config.classMix.weights.compactMap { totals[$0.name] })
    }
}
