import Engine

/// One named tensor of a model: where a slice of a flat buffer goes and what shape it has.
public struct TensorLayout: Sendable, Equatable {
    public var name: String
    public var shape: Shape
    public init(name: String, shape: Shape) { self.name = name; self.shape = shape }
}

/// The tensors of a model in the order of its flat buffers (`ParameterStore.entries` and
/// `stateEntries`): enough to name and shape a snapshot's flat arrays without building the
/// model, and to check that a snapshot fits a model before anything is copied.
public struct ModelLayout: Sendable, Equatable {
    public var parameters: [TensorLayout]
    public var state: [TensorLayout]

    public init(parameters: [TensorLayout], state: [TensorLayout]) {
        self.parameters = parameters
        self.state = state
    }

    public init(_ store: ParameterStore) {
        parameters = store.entries.map { TensorLayout(name: $0.name, shape: $0.shape) }
        state = store.stateEntries.map { TensorLayout(name: $0.name, shape: $0.shape) }
    }

    /// Floats in the flat parameter / state buffers.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.shape.count } }
    public var stateCount: Int { state.reduce(0) { $0 + $1.shape.count } }

    /// nil if `other` (the model) has the same tensors in the same order; otherwise what differs,
    /// naming the tensors: "parameters: missing in snapshot: a; wrong shape: b (model 4×3, snapshot 4×5)".
    public func differences(from other: ModelLayout) -> String? {
        let parts = [Self.compare("parameters", mine: parameters, model: other.parameters),
                     Self.compare("state", mine: state, model: other.state)].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    private static func compare(_ what: String, mine: [TensorLayout], model: [TensorLayout]) -> String? {
        guard mine != model else { return nil }
        let mineByName = Dictionary(mine.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
        let modelNames = Set(model.map(\.name))
        var parts: [String] = []
        let missing = model.filter { mineByName[$0.name] == nil }.map(\.name)
        if !missing.isEmpty { parts.append("missing in snapshot: " + missing.joined(separator: ", ")) }
        let extra = mine.filter { !modelNames.contains($0.name) }.map(\.name)
        if !extra.isEmpty { parts.append("not in model: " + extra.joined(separator: ", ")) }
        let wrong = model.compactMap { m -> String? in
            guard let s = mineByName[m.name], s != m.shape else { return nil }
            return "\(m.name) (model \(m.shape), snapshot \(s))"
        }
        if !wrong.isEmpty { parts.append("wrong shape: " + wrong.joined(separator: ", ")) }
        if parts.isEmpty {
            // Same tensors, another order: the flat offsets would not line up.
            let first = zip(mine, model).first { $0.name != $1.name }
            parts.append("same tensors in another order (model has '\(first?.1.name ?? "?")' where snapshot has '\(first?.0.name ?? "?")')")
        }
        return what + ": " + parts.joined(separator: "; ")
    }
}
