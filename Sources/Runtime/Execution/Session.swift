public import ModelIR

/// Runs one `ExecutionPlan`: owns the arena (allocated once, here) and copies inputs in and
/// outputs out around the op loop, which allocates nothing. Inputs the plan reads in place
/// (`BoundaryValue.inPlace`: read only by QuantizeLinear) are not copied: their arena's base
/// points at the caller's tensor for the run.
///
/// Not thread-safe: use one session per thread (sessions of one plan share its weights).
public final class Session {
    public let plan: ExecutionPlan
    /// The base address of every arena as the kernels see it (owned memory, or for an in-place
    /// input the caller's bytes during a run).
    private let arenas: UnsafeMutablePointer<UnsafeMutableRawPointer>
    /// What this session allocated, freed in deinit.
    private let owned: [UnsafeMutableRawPointer]
    private let arenaCount: Int
    /// An aligned copy for an in-place input whose bytes are not aligned to its element
    /// (made on first need, then reused).
    private var misalignedCopies: [Int: UnsafeMutableRawPointer] = [:]
    /// Intra-op worker threads (nil at one thread), parked between runs.
    private let pool: WorkerPool?

    init(plan: ExecutionPlan) {
        self.plan = plan
        arenaCount = max(plan.arenaSizes.count, 1)
        pool = plan.threads > 1 ? WorkerPool(participants: plan.threads) : nil
        arenas = .allocate(capacity: arenaCount)
        var owned: [UnsafeMutableRawPointer] = []
        for i in 0..<arenaCount {
            let bytes = i < plan.arenaSizes.count ? plan.arenaSizes[i] : 0
            let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
            p.initializeMemory(as: UInt8.self, repeating: 0, count: max(bytes, 1))
            (arenas + i).initialize(to: p)
            owned.append(p)
        }
        self.owned = owned
    }

    deinit {
        for p in owned { p.deallocate() }
        for p in misalignedCopies.values { p.deallocate() }
        arenas.deallocate()
    }

    /// Runs the model and returns every graph output as a new tensor.
    public func run(inputs: [String: Tensor]) throws -> [String: Tensor] {
        var result: [String: Tensor] = [:]
        try execute(inputs) { memory in
            for o in plan.program.outputs {
                let bytes = [UInt8](UnsafeRawBufferPointer(start: memory.raw(o.buffer), count: o.type.byteCount))
                result[o.name] = try Tensor(elementType: o.type.elementType, shape: o.type.shape, bytes: bytes)
            }
        }
        return result
    }

    /// Runs the model and writes every graph output into the caller's buffer of that name,
    /// which must have exactly the output's byte size (`plan.outputs`). Allocates nothing.
    public func run(inputs: [String: Tensor], outputs: [String: UnsafeMutableRawBufferPointer]) throws {
        try run(inputs: inputs, outputs: outputs, times: nil)
    }

    private func run(inputs: [String: Tensor], outputs: [String: UnsafeMutableRawBufferPointer], times: UnsafeMutableBufferPointer<UInt64>?)
        throws
    {
        for o in plan.program.outputs {
            guard let dst = outputs[o.name] else {
                throw RuntimeError.invalidOutput(
                    name: o.name, detail: "no buffer given for this output; pass one of \(o.type.byteCount) bytes")
            }
            guard dst.count == o.type.byteCount, dst.baseAddress != nil || o.type.byteCount == 0 else {
                throw RuntimeError.invalidOutput(name: o.name, detail: "buffer has \(dst.count) bytes; \(o.type) needs \(o.type.byteCount)")
            }
        }
        try execute(inputs, times: times) { memory in
            for o in plan.program.outputs where o.type.byteCount > 0 {
                if let dst = outputs[o.name]?.baseAddress { dst.copyMemory(from: memory.raw(o.buffer), byteCount: o.type.byteCount) }
            }
        }
    }

    /// Runs like `run(inputs:outputs:)` and records each step's wall time in `profile`
    /// (made by `plan.makeProfile()`). Allocates nothing.
    public func run(
        inputs: [String: Tensor], outputs: [String: UnsafeMutableRawBufferPointer], profile: inout StepProfile
    ) throws {
        guard profile.steps.count == plan.program.steps.count else {
            throw RuntimeError.invalidOutput(
                name: "profile",
                detail: "made for \(profile.steps.count) steps, the plan has \(plan.program.steps.count); use plan.makeProfile()")
        }
        try profile.lastNanoseconds.withUnsafeMutableBufferPointer { times in
            try run(inputs: inputs, outputs: outputs, times: times)
        }
        for i in profile.lastNanoseconds.indices { profile.totalNanoseconds[i] &+= profile.lastNanoseconds[i] }
        profile.runs += 1
    }

    /// Copies or binds the inputs, runs the steps, then `finish` reads the outputs while the
    /// in-place inputs are still bound (an output may be computed from them).
    private func execute(
        _ inputs: [String: Tensor], times: UnsafeMutableBufferPointer<UInt64>? = nil, finish: (Memory) throws -> Void
    ) throws {
        try validate(inputs)
        let memory = Memory(bases: UnsafePointer(arenas), pool: pool)
        for i in plan.program.inputs where !i.inPlace {
            guard let t = inputs[i.name] else { continue }
            let dst = memory.raw(i.buffer)
            t.withUnsafeBytes { src in
                if let base = src.baseAddress, src.count > 0 { dst.copyMemory(from: base, byteCount: src.count) }
            }
        }
        // The caller's bytes are not the session's to keep, whatever the run's outcome.
        defer { for i in plan.program.inputs where i.inPlace { arenas[i.buffer.arena] = owned[i.buffer.arena] } }
        try withBound(from: 0, inputs) {
            if let times { try plan.program.execute(memory, times: times) } else { try plan.program.execute(memory) }
            try finish(memory)
        }
    }

    /// Points the arena of each in-place input from `plan.program.inputs[k...]` at the caller's
    /// bytes (an aligned copy when they are not aligned to the element) for the duration of
    /// `body`. Recursion instead of a list: a run allocates nothing.
    private func withBound(from k: Int, _ inputs: [String: Tensor], _ body: () throws -> Void) throws {
        let all = plan.program.inputs
        guard let next = all[k...].firstIndex(where: \.inPlace), let t = inputs[all[next].name] else { return try body() }
        let i = all[next]
        let alignment = max(i.type.elementType.byteSize ?? 1, 1)
        try t.withUnsafeBytes { src in
            if let base = src.baseAddress, Int(bitPattern: base) % alignment == 0 {
                arenas[i.buffer.arena] = UnsafeMutableRawPointer(mutating: base)
            } else {
                let copy = misalignedCopies[i.buffer.arena] ?? UnsafeMutableRawPointer.allocate(byteCount: max(src.count, 1), alignment: 64)
                misalignedCopies[i.buffer.arena] = copy
                if let base = src.baseAddress, src.count > 0 { copy.copyMemory(from: base, byteCount: src.count) }
                arenas[i.buffer.arena] = copy
            }
            try withBound(from: next + 1, inputs, body)
        }
    }

    private func validate(_ inputs: [String: Tensor]) throws {
        for i in plan.program.inputs {
            guard let t = inputs[i.name] else {
                throw RuntimeError.invalidInput(name: i.name, detail: "missing; the model needs \(i.type)")
            }
            guard t.elementType == i.type.elementType else {
                throw RuntimeError.invalidInput(name: i.name, detail: "is \(t.elementType) but the model needs \(i.type.elementType)")
            }
            guard t.shape == i.type.shape else {
                throw RuntimeError.invalidInput(
                    name: i.name,
                    detail: "has shape \(t.shape) but the plan was bound to \(i.type.shape); "
                        + "make a plan with matching bindings")
            }
            guard t.byteCount == i.type.byteCount else {
                throw RuntimeError.invalidInput(name: i.name, detail: "holds \(t.byteCount) bytes, expected \(i.type.byteCount)")
            }
        }
        if inputs.count != plan.program.inputs.count {
            for name in inputs.keys where !plan.program.inputs.contains(where: { $0.name == name }) {
                let known = plan.program.inputs.map(\.name).joined(separator: ", ")
                throw RuntimeError.invalidInput(name: name, detail: "the model has no such input (inputs: \(known))")
            }
        }
    }
}
