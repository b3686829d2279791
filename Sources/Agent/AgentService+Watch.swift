/// The once-a-second work besides the machine's own tick: the end of a shadow period and the
/// post-commit watchdog. Both turn measurements into the machine's events.
extension AgentService {
    func tick() async {
        await endShadowIfDue()
        await checkWatchdog()
        await checkpointDownloadIfDue()
        await feed(.tick)
    }

    /// At the end of the shadow period: the tally decides the trial (docs/agent.md, "Shadow
    /// period"); the figures go into the validation report.
    func endShadowIfDue() async {
        guard let run = shadow, Self.nowMs() >= run.untilMs else { return }
        shadow = nil
        guard case .validating(let release, _) = machine.state.phase, release.slot == run.slot else { return }
        var report = run.report
        report.shadowAgreement = run.tally.compared >= config.shadow.minSamples ? run.tally.agreement : nil
        report.shadowCompared = run.tally.compared
        log("trial of release \(release.artifact.releaseSequence): \(run.tally.summary)")
        if let f = run.tally.failure(config.shadow, latency: config.watchdog) {
            report.failure = (f.metric, f.measured, f.threshold)
            recordValidation(report, of: release.artifact.artifactDigest)
            await feed(.validationFailed(metric: f.metric, measured: f.measured, threshold: f.threshold))
        } else {
            recordValidation(report, of: release.artifact.artifactDigest)
            await feed(.validationPassed)
        }
    }

    /// During the watch window: a regression of the live figures rolls back (the machine picks
    /// the previous slot, or reports when there is none).
    func checkWatchdog() async {
        guard case .committed(let until) = machine.state.phase, Self.nowMs() < until else {
            watch = nil
            return
        }
        // Restarted inside the window: the validation report is gone, the error rate still counts.
        if watch == nil { watch = PostCommitWatch(baselineP95Ms: nil) }
        guard let f = watch?.regression(config.watchdog) else { return }
        watch = nil
        await feed(.watchdogRegression(metric: f.metric, measured: f.measured, threshold: f.threshold))
    }
}
