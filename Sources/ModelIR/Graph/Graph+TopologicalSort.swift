/// Topological ordering, with cycles reported by the nodes on the cycle.
extension Graph {
    /// Reorders `nodes` so every node comes after the producers of its inputs, keeping the
    /// original order among independent nodes (stable Kahn's algorithm). Throws
    /// `ModelIRError.cycle` naming the nodes of one cycle.
    public mutating func sortTopologically() throws {
        nodes = try topologicallySortedNodes()
    }

    public func topologicallySortedNodes() throws -> [Node] {
        var producer: [String: Int] = [:]
        for (i, n) in nodes.enumerated() {
            for o in n.outputs where !o.isEmpty { producer[o] = i }
        }
        var deps = [Set<Int>](repeating: [], count: nodes.count)
        var dependents = [[Int]](repeating: [], count: nodes.count)
        for (i, n) in nodes.enumerated() {
            var reads = Set(n.inputs.filter { !$0.isEmpty })
            for g in n.subgraphs { reads.formUnion(g.capturedValues) }
            for v in reads {
                if let p = producer[v], p != i || n.outputs.contains(v) { deps[i].insert(p) }
            }
        }
        for (i, d) in deps.enumerated() { for p in d { dependents[p].append(i) } }
        var remaining = deps.map(\.count)
        // Always schedule the ready node that came first, so an already sorted graph keeps
        // its order exactly and rewrites disturb it as little as possible.
        var ready = MinHeap((0..<nodes.count).filter { remaining[$0] == 0 })
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        while let i = ready.pop() {
            order.append(i)
            for d in dependents[i] {
                remaining[d] -= 1
                if remaining[d] == 0 { ready.push(d) }
            }
        }
        guard order.count == nodes.count else {
            throw ModelIRError.cycle(nodes: findCycle(deps: deps, blocked: remaining).map { nodes[$0].name })
        }
        return order.map { nodes[$0] }
    }

    /// One cycle among the nodes Kahn's algorithm could not schedule, found by walking
    /// unscheduled dependencies until a node repeats.
    private func findCycle(deps: [Set<Int>], blocked: [Int]) -> [Int] {
        guard let start = blocked.indices.first(where: { blocked[$0] > 0 }) else { return [] }
        var path: [Int] = []
        var position: [Int: Int] = [:]
        var current = start
        while position[current] == nil {
            position[current] = path.count
            path.append(current)
            guard let next = deps[current].sorted().first(where: { blocked[$0] > 0 }) else { return path }
            current = next
        }
        // path[pos...] is the cycle, walked against the data direction; report it producer-first.
        return Array(path[(position[current] ?? 0)...].reversed())
    }
}

/// A binary min-heap of node indices.
struct MinHeap {
    private var items: [Int] = []

    init(_ values: [Int]) { for v in values { push(v) } }

    mutating func push(_ v: Int) {
        items.append(v)
        var i = items.count - 1
        while i > 0, items[(i - 1) / 2] > items[i] {
            items.swapAt(i, (i - 1) / 2)
            i = (i - 1) / 2
        }
    }

    mutating func pop() -> Int? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count, items[l] < items[m] { m = l }
                if r < items.count, items[r] < items[m] { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
