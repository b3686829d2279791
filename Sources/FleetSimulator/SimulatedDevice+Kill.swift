import Agent
import FleetMQTT
import Foundation

/// One injected kill of a device in the middle of a download, and what came of it.
public struct KilledDownload: Codable, Sendable, Equatable {
    public var deviceID: String
    public var releaseSequence: UInt64
    /// Chunks stored (checkpoint written) when the agent died, of `chunkCount`.
    public var storedChunks: Int
    public var chunkCount: Int
    /// Seconds since the simulator started.
    public var atSeconds: Double
    /// Chunks the new agent found in its persisted bitmap and did not ask for again (nil: not
    /// restarted yet, or it found no checkpoint and started over).
    public var resumedFromChunks: Int?
    /// The device's update phase and running release now (filled in by the summary).
    public var phase: String?
    public var runningRelease: String?

    /// Whole percent of the download stored at the kill.
    public var percent: Int { chunkCount > 0 ? storedChunks * 100 / chunkCount : 0 }

    /// "sim-0003 killed at 52% of release 2 (13/25 chunks), resumed from 13/25, committed".
    public var line: String {
        var text = "\(deviceID) killed at \(percent)% of release \(releaseSequence) (\(storedChunks)/\(chunkCount) chunks)"
        if let r = resumedFromChunks {
            text += ", resumed from \(r)/\(chunkCount)"
        } else if phase == "down" {
            text += ", down"
        } else {
            text += ", not resumed"
        }
        if let phase, phase != "down" { text += ", \(phase)" + (runningRelease.map { " (running \($0))" } ?? "") }
        return text
    }
}

/// Dying mid-download and coming back: the simulator's side of `killMidDownload`.
extension SimulatedDevice {
    /// Waits for the agent's injected kill, then kills the device abruptly and restarts it;
    /// again for each agent that follows.
    func watchKills(_ first: AgentService) -> Task<Void, Never> {
        let startedAt = ContinuousClock.now
        return Task { [self] in
            var agent = first
            while !Task.isCancelled {
                var kills = agent.injectedKills.makeAsyncIterator()
                guard let kill = await kills.next() else { return }
                guard let next = await restart(after: kill, at: (ContinuousClock.now - startedAt).secondsValue) else { return }
                agent = next
            }
        }
    }

    /// The agent already stopped dead (`AgentService.kill()`, tasks cancelled); cut its
    /// connection without DISCONNECT, so the broker publishes its will, keep the device dead
    /// for the pause, then start a fresh agent on the same data directory with a new
    /// connection. The dead agent is dropped without `stop()`. Returns the new agent (nil
    /// when the device is stopping or the restart failed).
    func restart(after kill: InjectedKill, at seconds: Double) async -> AgentService? {
        let dead = life.withLock { l in
            l.dead = true
            l.kills.append(
                KilledDownload(
                    deviceID: deviceID, releaseSequence: kill.releaseSequence, storedChunks: kill.storedChunks,
                    chunkCount: kill.chunkCount, atSeconds: seconds))
            return l.current
        }
        dead.transport.client.abort()
        do { try await Task.sleep(for: killPause ?? .seconds(2)) } catch { return nil }
        let next: Incarnation
        do { next = try Self.incarnate(agentConfig, broker: broker) } catch {
            log("cannot restart after the injected kill: \(error)")
            return nil
        }
        let installed = life.withLock { l in
            guard !l.stopping else { return false }
            l.current = next
            l.dead = false
            return true
        }
        guard installed else { return nil }
        do { try await launch(next) } catch {
            log("cannot restart after the injected kill: \(error)")
            return nil
        }
        let resume = await next.agent.lastResume
        life.withLock { l in
            guard let i = l.kills.indices.last else { return }
            if let resume, resume.releaseSequence == l.kills[i].releaseSequence { l.kills[i].resumedFromChunks = resume.storedChunks }
        }
        return next.agent
    }

    func log(_ text: String) {
        FileHandle.standardError.write(Data("flotilla simulate: \(deviceID): \(text)\n".utf8))
    }
}
