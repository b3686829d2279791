/// The human-readable form of `flotilla inspect`.
extension ModelSummary {
    func renderText() -> String {
        var out: [String] = []
        out.append("Model      \(path)")
        out.append("File size  \(Format.bytes(fileBytes)) (\(Format.grouped(fileBytes)) bytes)")
        out.append("IR version \(irVersion.map(String.init) ?? "unknown")")
        let producer = [producerName, producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        out.append("Producer   \(producer.isEmpty ? "(not set)" : producer)")
        let opsets = opsetImports.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        out.append("Opsets     \(opsets)")

        out.append("")
        out.append("Inputs")
        out.append(valueTable(inputs))
        out.append("")
        out.append("Outputs")
        out.append(valueTable(outputs))

        out.append("")
        let after = nodesAfterPasses.map { ", \($0) after Flotilla's passes" } ?? ""
        out.append("Ops (\(nodeCount) nodes as written\(after))")
        var opTable = TextTable(["op", "count", "share"], alignments: [.left, .right, .right])
        for op in ops { opTable.add([op.op, String(op.count), Format.percent(Double(op.count), of: Double(nodeCount))]) }
        out.append(opTable.render())

        out.append("")
        out.append("Weights: \(Format.grouped(parameters)) parameters, \(Format.bytes(weightBytes))")
        if !weightsByType.isEmpty {
            var table = TextTable(["type", "tensors", "elements", "bytes"], alignments: [.left, .right, .right, .right])
            for g in weightsByType {
                table.add([g.elementType, String(g.tensors), Format.grouped(g.elements), Format.grouped(g.bytes)])
            }
            out.append(table.render())
        }

        out.append("")
        out.append("MACs: \(Format.grouped(macs)) (\(Format.si(macs)))")
        out.append("  \(macsNote)")
        if !macsByOp.isEmpty {
            var table = TextTable(["op", "nodes", "MACs", "share"], alignments: [.left, .right, .right, .right])
            for m in macsByOp {
                table.add([m.op, String(m.nodes), Format.grouped(m.macs), Format.percent(Double(m.macs), of: Double(macs))])
            }
            out.append(table.render())
        }
        if !macsUnknownNodes.isEmpty {
            out.append(
                "  not counted (shapes unknown): \(macsUnknownNodes.prefix(10).joined(separator: ", "))"
                    + (macsUnknownNodes.count > 10 ? " and \(macsUnknownNodes.count - 10) more" : ""))
        }

        out.append("")
        out.append(unsupportedText())
        return out.joined(separator: "\n")
    }

    private func valueTable(_ values: [Value]) -> String {
        if values.isEmpty { return "  (none)" }
        var table = TextTable(["name", "type", "shape"])
        for v in values {
            table.add([v.name, v.elementType, v.shape.map { "[" + $0.joined(separator: ", ") + "]" } ?? "[unknown rank]"])
        }
        return table.render()
    }

    private func unsupportedText() -> String {
        var out: [String] = []
        func table(_ nodes: [UnsupportedNode]) -> String {
            var t = TextTable(["node", "op", "domain", "opset", "reason"], alignments: [.left, .left, .left, .right, .left])
            for n in nodes { t.add([n.node, n.op, n.domain, String(n.opset), n.reason]) }
            return t.render()
        }
        if unsupportedByImporter.isEmpty {
            out.append("Importer: every op is supported")
        } else {
            out.append("Importer: \(unsupportedByImporter.count) node(s) not in the importer's op table (kept as written)")
            out.append(table(unsupportedByImporter))
        }
        if let plan = runtimePlan {
            let b = plan.bindings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
            out.append(
                "Runtime:  plans and runs the model (\(b.isEmpty ? "fixed shapes" : b); \(plan.kernels) kernels, "
                    + "\(plan.steps) steps, arena \(Format.bytes(plan.peakArenaBytes)), constants \(Format.bytes(plan.constantBytes)))")
        } else if !unsupportedByRuntime.isEmpty {
            out.append("Runtime:  \(unsupportedByRuntime.count) node(s) cannot run (nodes reading their outputs are not checked)")
            out.append(table(unsupportedByRuntime))
        } else if let e = runtimeError {
            out.append("Runtime:  cannot plan the model: \(e)")
        }
        return out.joined(separator: "\n")
    }
}
