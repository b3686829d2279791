/// One artifact's pending chunks and where the pass over them stands: a value type with no
/// clock and no I/O (the publisher passes `now`), so its rules are tested with plain values.
///
/// Two rules keep the coordinator from serving a whole artifact again for every device that
/// joins a little late (docs/benchmarks.md, "Fleet": devices of a 1000-device wave accept their
/// desired state over 2–3.4 s):
///
/// - **The gathering window extends** while requests keep arriving before the pass starts:
///   the pass starts `quiet` after the latest request, but never later than `maxGather` after
///   the first, so a steady trickle of joiners cannot hold it back for ever.
/// - **A pass in progress is not restarted.** Chunks are sent in a circular sweep from a
///   cursor: a device that joins mid-pass (it subscribed before asking, so it receives what
///   follows) gets the rest of the current pass now and only the chunks it missed when the
///   sweep wraps around, instead of the sweep jumping back to chunk 0 for everyone.
struct ChunkPass<Instant: Comparable & Sendable>: Sendable {
    private(set) var indices: Set<Int> = []
    /// The next chunk index the sweep goes on from.
    private(set) var cursor = 0
    /// Not before this instant: the end of the gathering window.
    private(set) var notBefore: Instant
    let firstRequest: Instant
    /// When the window stops extending.
    let latestStart: Instant
    /// Set once the first frame went out: later requests no longer move `notBefore`.
    private(set) var started = false

    /// A pass opened by a first request at `now`: it may start `quiet` later, extended by
    /// further requests up to `latest` (`now + maxGather`).
    init(now: Instant, quietUntil: Instant, latest: Instant) {
        firstRequest = now
        notBefore = min(quietUntil, latest)
        latestStart = max(latest, now)
    }

    var isEmpty: Bool { indices.isEmpty }
    var count: Int { indices.count }

    /// Merges a request's chunks. Before the pass starts the window moves to `quietUntil`
    /// (bounded by `latestStart`); once it runs, the chunks join the sweep where it stands.
    mutating func merge(_ wanted: some Sequence<Int>, quietUntil: Instant) {
        indices.formUnion(wanted)
        if !started { notBefore = min(max(notBefore, quietUntil), latestStart) }
    }

    /// Whether a frame may go at `now`.
    func isDue(_ now: Instant) -> Bool { !indices.isEmpty && notBefore <= now }

    /// Takes the next chunk of the sweep: the smallest pending index at or after the cursor,
    /// else (the sweep wraps) the smallest of all. Nil when nothing is pending.
    mutating func next() -> Int? {
        guard !indices.isEmpty else { return nil }
        let index = indices.filter { $0 >= cursor }.min() ?? indices.min() ?? 0
        indices.remove(index)
        cursor = index + 1
        started = true
        return index
    }
}
