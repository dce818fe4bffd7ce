import Engine
import Foundation

/// One optimizer state buffer ("adam.m"): `parameterCount` floats in the store's flat order.
public struct OptimizerTensor: Sendable {
    public var name: String
    public var data: [Float]
    public init(name: String, data: [Float]) { self.name = name; self.data = data }
}

/// One model's complete training state as flat arrays: what a checkpoint holds and what
/// travels between ranks. `layout` names and shapes the flat arrays; it is nil only for a
/// snapshot that travelled without it (then `restore` can check counts, not names).
///
/// Equality is bitwise on the floats (NaN equals itself, -0 differs from +0): two snapshots
/// are equal exactly when restoring either gives the same training run.
public struct ModelSnapshot: Sendable, Equatable {
    /// The model's name in the config ("unet-small").
    public var name: String
    /// ParameterStore.values: every trainable tensor, `layout.parameters` order.
    public var values: [Float]
    /// ParameterStore.state: batch-norm running statistics, `layout.state` order.
    public var state: [Float]
    /// Optimizer.kind: "sgd", "adam", "adamw".
    public var optimizerKind: String
    /// Optimizer.stateTensors in their order (none for plain SGD).
    public var optimizerTensors: [OptimizerTensor]
    /// Optimizer.step: updates taken so far.
    public var optimizerStep: Int
    public var layout: ModelLayout?

    public init(name: String, values: [Float], state: [Float], optimizerKind: String,
                optimizerTensors: [OptimizerTensor], optimizerStep: Int, layout: ModelLayout? = nil) {
        self.name = name
        self.values = values
        self.state = state
        self.optimizerKind = optimizerKind
        self.optimizerTensors = optimizerTensors
        self.optimizerStep = optimizerStep
        self.layout = layout
    }

    /// Copies the live state of a model and its optimizer.
    public init(name: String, store: ParameterStore, optimizer: any Optimizer) {
        self.init(name: name, values: Array(store.values.buffer), state: Array(store.state.buffer),
                  optimizerKind: optimizer.kind,
                  optimizerTensors: optimizer.stateTensors.map { OptimizerTensor(name: $0.name, data: Array($0.data)) },
                  optimizerStep: optimizer.step, layout: ModelLayout(store))
    }

    /// Copies this snapshot into a live model and optimizer. Everything is checked first
    /// (tensor names and shapes when the layout is known, counts, optimizer kind, state names
    /// and sizes): on any mismatch nothing is changed and the error names what differs.
    public func restore(into store: ParameterStore, optimizer: any Optimizer) throws {
        let what = "model '\(name)'"
        if let layout, let diff = layout.differences(from: ModelLayout(store)) {
            throw CheckpointError("\(what): snapshot does not match the model; \(diff)")
        }
        guard values.count == store.count else {
            throw CheckpointError("\(what): snapshot has \(values.count) parameter values, the model \(store.count)")
        }
        guard state.count == store.state.count else {
            throw CheckpointError("\(what): snapshot has \(state.count) state values, the model \(store.state.count)")
        }
        guard optimizerKind == optimizer.kind else {
            throw CheckpointError("\(what): snapshot holds \(optimizerKind) state, the optimizer is \(optimizer.kind)")
        }
        // Plain SGD has no state tensors to betray a size mismatch.
        guard optimizer.parameterCount == store.count else {
            throw CheckpointError("\(what): optimizer built for \(optimizer.parameterCount) parameters, the model has \(store.count)")
        }
        // importState checks names and sizes before it copies anything.
        do {
            try withBuffers(optimizerTensors) { try optimizer.importState($0, step: optimizerStep) }
        } catch {
            throw CheckpointError("\(what): \(error)")
        }
        _ = store.values.buffer.update(fromContentsOf: values)
        _ = store.state.buffer.update(fromContentsOf: state)
    }

    public static func == (a: ModelSnapshot, b: ModelSnapshot) -> Bool {
        a.name == b.name && a.optimizerKind == b.optimizerKind && a.optimizerStep == b.optimizerStep
            && a.layout == b.layout && bitwiseEqual(a.values, b.values) && bitwiseEqual(a.state, b.state)
            && a.optimizerTensors.count == b.optimizerTensors.count
            && zip(a.optimizerTensors, b.optimizerTensors).allSatisfy { $0.name == $1.name && bitwiseEqual($0.data, $1.data) }
    }
}

private func bitwiseEqual(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && a.withUnsafeBytes { x in
        b.withUnsafeBytes { y in x.isEmpty || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 }
    }
}

/// Calls `body` with unsafe views of every tensor's data, kept alive for the call.
private func withBuffers<R>(_ tensors: [OptimizerTensor], _ acc: [(name: String, data: UnsafeBufferPointer<Float>)] = [],
                            _ body: ([(name: String, data: UnsafeBufferPointer<Float>)]) throws -> R) rethrows -> R {
    guard let first = tensors.first else { return try body(acc) }
    return try first.data.withUnsafeBufferPointer { p in
        try withBuffers(Array(tensors.dropFirst()), acc + [(first.name, p)], body)
    }
}
