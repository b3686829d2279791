/// Lookups over the dataflow. These scan the node list (O(nodes)); passes that query in a loop
/// build a `ValueIndex` once instead.
extension Graph {
    /// Index of the node producing `value`, or nil if it is an input, initializer or undefined.
    public func producer(of value: String) -> Int? {
        nodes.firstIndex { $0.outputs.contains(value) }
    }

    /// Indices of the nodes reading `value`, in node order (a node reading it twice appears
    /// once). Reads from inside a node's subgraphs count as reads by that node.
    public func consumers(of value: String) -> [Int] {
        nodes.indices.filter { i in
            nodes[i].inputs.contains(value) || nodes[i].subgraphs.contains { $0.readsOuterValue(value) }
        }
    }

    public func isGraphOutput(_ value: String) -> Bool { outputs.contains { $0.name == value } }
    public func isGraphInput(_ value: String) -> Bool { inputs.contains { $0.name == value } }

    /// Every name this graph's nodes and its subgraphs read that it does not define itself:
    /// the outer-scope values a subgraph captures.
    public var capturedValues: Set<String> {
        var defined = Set(inputs.map(\.name)).union(initializers.keys)
        for n in nodes { defined.formUnion(n.outputs) }
        var read: Set<String> = []
        for n in nodes {
            read.formUnion(n.inputs.filter { !$0.isEmpty })
            for g in n.subgraphs { read.formUnion(g.capturedValues) }
        }
        read.formUnion(outputs.map(\.name))
        return read.subtracting(defined)
    }

    func readsOuterValue(_ value: String) -> Bool { capturedValues.contains(value) }

    /// A name not used by any value, node or initializer of this graph, derived from `base`.
    public func uniqueName(_ base: String) -> String {
        var used = Set(inputs.map(\.name)).union(outputs.map(\.name)).union(initializers.keys)
        for n in nodes {
            used.formUnion(n.outputs)
            used.formUnion(n.inputs)
            used.insert(n.name)
        }
        if !used.contains(base) { return base }
        var i = 1
        while used.contains("\(base)_\(i)") { i += 1 }
        return "\(base)_\(i)"
    }
}

/// Producer and consumer maps built once, for passes that query many values.
public struct ValueIndex: Sendable {
    public let producer: [String: Int]
    public let consumers: [String: [Int]]

    public init(_ graph: Graph) {
        var producer: [String: Int] = [:]
        var consumers: [String: [Int]] = [:]
        for (i, n) in graph.nodes.enumerated() {
            for o in n.outputs where !o.isEmpty { producer[o] = i }
            var read = Set(n.inputs.filter { !$0.isEmpty })
            for g in n.subgraphs { read.formUnion(g.capturedValues) }
            for v in read { consumers[v, default: []].append(i) }
        }
        self.producer = producer
        self.consumers = consumers
    }

    public func consumerCount(_ value: String) -> Int { consumers[value]?.count ?? 0 }
}

/// The names a graph uses (values, initializers, nodes), for passes that mint several new
/// names without rescanning the graph each time.
public struct NameSet: Sendable {
    private var used: Set<String> = []

    public init(_ graph: Graph) {
        used = Set(graph.inputs.map(\.name)).union(graph.outputs.map(\.name)).union(graph.initializers.keys)
        for n in graph.nodes {
            used.formUnion(n.outputs)
            used.formUnion(n.inputs)
            used.insert(n.name)
        }
    }

    /// `base`, or `base_1`, `base_2`… — the first name not yet used, which is then reserved.
    public mutating func fresh(_ base: String) -> String {
        var name = base
        var i = 1
        while used.contains(name) {
            name = "\(base)_\(i)"
            i += 1
        }
        used.insert(name)
        return name
    }
}
