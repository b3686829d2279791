import FleetProtocol
import ModelIR
import Runtime

/// A trial model in its shadow period: it answers nothing, but every live request the serving
/// model answers runs on it too and the top-1 answers are tallied until `untilMs`.
struct ShadowRun {
    let slot: Slot
    let model: LoadedModel
    let untilMs: Int64
    /// The validation bundle's report, completed with the shadow result at the end.
    var report: ValidationReport
    var tally = ShadowTally()
    private var session: Session?

    init(slot: Slot, model: LoadedModel, untilMs: Int64, report: ValidationReport) {
        self.slot = slot
        self.model = model
        self.untilMs = untilMs
        self.report = report
    }

    /// Runs the trial model on the request the serving model just answered. A trial failure is
    /// a disagreement, never an error for the caller: the caller got the serving model's answer.
    mutating func compare(inputs: [String: Tensor], servingOutputs: [String: Tensor], servingUs: UInt64, outputName: String?) {
        let servingTop1 = outputName.flatMap { servingOutputs[$0] }.map(ModelValidator.argmaxRows) ?? []
        let session = self.session ?? model.plan.makeSession()
        self.session = session
        let start = ContinuousClock.now
        let trialName = model.plan.outputs.first?.name
        guard let out = try? session.run(inputs: inputs), let trialOut = trialName.flatMap({ out[$0] }) else {
            tally.record(serving: servingTop1, trial: nil, servingUs: servingUs, trialUs: nil)
            return
        }
        let trialUs = AgentService.microseconds(since: start)
        tally.record(serving: servingTop1, trial: ModelValidator.argmaxRows(trialOut), servingUs: servingUs, trialUs: trialUs)
    }
}
