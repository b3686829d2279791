public import ModelIR

/// One validation sample: the model's inputs, an optional label, and the fp32 model's outputs
/// for those inputs (the reference the int8 model's fidelity is measured against).
public struct ValidationSample: Sendable, Equatable {
    public var inputs: [String: Tensor]
    /// The ground truth, e.g. a scalar int64 class index; nil for unlabelled samples.
    public var label: Tensor?
    public var referenceOutputs: [String: Tensor]

    public init(inputs: [String: Tensor], label: Tensor? = nil, referenceOutputs: [String: Tensor] = [:]) {
        self.inputs = inputs
        self.label = label
        self.referenceOutputs = referenceOutputs
    }
}

/// What a device runs after installing a model and before committing it: samples with labels
/// and fp32 reference outputs, and the metrics the coordinator measured on exactly these
/// samples (so the device compares like with like).
public struct ValidationBundle: Sendable, Equatable {
    public var samples: [ValidationSample]
    public var expectedMetrics: ExpectedMetrics

    public init(samples: [ValidationSample], expectedMetrics: ExpectedMetrics = ExpectedMetrics()) {
        self.samples = samples
        self.expectedMetrics = expectedMetrics
    }

    /// Index JSON for the validation-index section; tensor bytes go to `data`.
    func encode(into data: inout TensorDataBuilder) -> JSONValue {
        func tensors(_ map: [String: Tensor]) -> JSONValue {
            var members: [String: JSONValue] = [:]
            for key in map.keys.sorted(by: GraphEncoder.utf8Order) {
                if let t = map[key] { members[key] = TensorCoding.encode(t, into: &data) }
            }
            return .object(members)
        }
        var samples: [JSONValue] = []
        for sample in self.samples {
            var members: [String: JSONValue] = ["inputs": tensors(sample.inputs)]
            if let label = sample.label { members["label"] = TensorCoding.encode(label, into: &data) }
            members["referenceOutputs"] = tensors(sample.referenceOutputs)
            samples.append(.object(members))
        }
        return .object(["samples": .array(samples), "expectedMetrics": expectedMetrics.json])
    }

    init(json root: JSONField, data: TensorCoding.Source) throws(ArtifactError) {
        func tensors(_ field: JSONField) throws(ArtifactError) -> [String: Tensor] {
            var out: [String: Tensor] = [:]
            for (name, t) in try field.members() { out[name] = try TensorCoding.tensor(t, from: data) }
            return out
        }
        var samples: [ValidationSample] = []
        for item in try root.field("samples").array() {
            samples.append(
                ValidationSample(
                    inputs: try tensors(try item.field("inputs")),
                    label: try item.optionalField("label").map { (f) throws(ArtifactError) in try TensorCoding.tensor(f, from: data) },
                    referenceOutputs: try tensors(try item.field("referenceOutputs"))))
        }
        self.init(samples: samples, expectedMetrics: try ExpectedMetrics(json: try root.field("expectedMetrics")))
    }
}
