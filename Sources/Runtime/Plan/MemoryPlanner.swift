/// Static memory planning: every intermediate buffer gets an offset in one arena, and buffers
/// whose lifetimes do not overlap may share bytes.
///
/// Algorithm: **greedy by size** (TFLite's `ArenaPlanner` / "greedy by size" of Pisarchyk &
/// Lee, 2020): take buffers largest first; place each at the lowest offset where it overlaps,
/// in memory, no already placed buffer whose lifetime intersects its own. Lifetimes are
/// closed step intervals [first write, last read]. Offsets are aligned to `alignment` bytes.
public struct MemoryPlan: Sendable, Equatable {
    /// One buffer to place: a value or a step's workspace.
    public struct Request: Sendable, Equatable {
        public var name: String
        public var bytes: Int
        public var firstStep: Int
        public var lastStep: Int

        public init(name: String, bytes: Int, firstStep: Int, lastStep: Int) {
            self.name = name
            self.bytes = bytes
            self.firstStep = firstStep
            self.lastStep = lastStep
        }

        func overlapsInTime(_ o: Request) -> Bool { firstStep <= o.lastStep && o.firstStep <= lastStep }
    }

    public var requests: [Request]
    /// Offset of each request, same order as `requests`.
    public var offsets: [Int]
    /// Arena size: the end of the highest placed buffer.
    public var peakBytes: Int
    /// What the arena would need if nothing shared memory (sum of aligned sizes).
    public var naiveBytes: Int

    public static let alignment = 64

    static func aligned(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    public init(requests: [Request]) {
        self.requests = requests
        var offsets = [Int](repeating: 0, count: requests.count)
        naiveBytes = requests.reduce(0) { $0 + Self.aligned($1.bytes) }
        let order = requests.indices.sorted { a, b in
            let (x, y) = (requests[a], requests[b])
            if x.bytes != y.bytes { return x.bytes > y.bytes }
            return x.firstStep != y.firstStep ? x.firstStep < y.firstStep : a < b
        }
        var placed: [Int] = []
        var peak = 0
        for i in order {
            let r = requests[i]
            let size = Self.aligned(r.bytes)
            // Memory ranges of placed buffers alive at the same time, by offset.
            let busy = placed.filter { requests[$0].overlapsInTime(r) }
                .map { (start: offsets[$0], end: offsets[$0] + Self.aligned(requests[$0].bytes)) }
                .sorted { $0.start < $1.start }
            var candidate = 0
            for range in busy {
                if candidate + size <= range.start { break }
                candidate = max(candidate, range.end)
            }
            offsets[i] = candidate
            peak = max(peak, candidate + size)
            placed.append(i)
        }
        self.offsets = offsets
        peakBytes = peak
    }

    public func offset(of name: String) -> Int? {
        requests.firstIndex { $0.name == name }.map { offsets[$0] }
    }
}
