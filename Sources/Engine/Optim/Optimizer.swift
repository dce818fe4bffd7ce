/// Optimizers update a `ParameterStore` in place from its flat `grads`: one pass over the flat
/// buffers per step, with their own state (moments) in flat buffers of the same layout, so a
/// checkpoint or a rank hand-over moves a few whole buffers plus the step counter.
///
/// Usage per training step: `try opt.update(store, learningRate: schedule.rate(step: opt.step))`
/// (or `update(store, schedule:)`), then zero the gradients.
public protocol Optimizer: AnyObject {
    /// Short name for logs and checkpoints ("sgd", "adam", "adamw").
    var kind: String { get }
    /// Number of scalars this optimizer's state covers (must equal the store's `count`).
    var parameterCount: Int { get }
    /// Updates taken so far (the next update is step `step + 1` in PyTorch's 1-based count).
    var step: Int { get set }
    /// The whole state as named flat buffers of `parameterCount` floats, in a fixed order
    /// ("adam.m", "adam.v"). Writing into them (then setting `step`) restores a saved state.
    var stateTensors: [(name: String, data: UnsafeMutableBufferPointer<Float>)] { get }
    /// One update: parameters -= f(gradScale · grads) with learning rate `learningRate`;
    /// increments `step`. `gradScale` folds e.g. 1/worldSize after a summing all-reduce, or a
    /// clipping factor, into the same pass. Throws if the store does not match `parameterCount`.
    func update(_ store: ParameterStore, learningRate: Float, gradScale: Float) throws
}

extension Optimizer {
    public func update(_ store: ParameterStore, learningRate: Float) throws {
        try update(store, learningRate: learningRate, gradScale: 1)
    }

    /// One update with the rate the schedule gives for the steps already taken.
    public func update(_ store: ParameterStore, schedule: LRSchedule, gradScale: Float = 1) throws {
        try update(store, learningRate: schedule.rate(step: step), gradScale: gradScale)
    }

    /// Copies a saved state in: `tensors` must hold exactly this optimizer's state names, each
    /// with `parameterCount` floats (any order). Nothing is changed if anything does not match.
    public func importState(_ tensors: [(name: String, data: UnsafeBufferPointer<Float>)], step: Int) throws {
        let own = stateTensors
        guard step >= 0 else { throw EngineError.mismatch("\(kind): negative step \(step) in saved state") }
        var byName: [String: UnsafeBufferPointer<Float>] = [:]
        for t in tensors {
            guard byName[t.name] == nil else { throw EngineError.mismatch("\(kind): state '\(t.name)' given twice") }
            byName[t.name] = t.data
        }
        for o in own {
            guard let src = byName[o.name] else {
                throw EngineError.mismatch("\(kind): saved state lacks '\(o.name)' (has \(tensors.map(\.name)))")
            }
            guard src.count == o.data.count else {
                throw EngineError.mismatch("\(kind): state '\(o.name)' has \(src.count) values, expected \(o.data.count)")
            }
        }
        if let extra = tensors.first(where: { t in !own.contains { $0.name == t.name } }) {
            throw EngineError.mismatch("\(kind): unknown state '\(extra.name)' (expected \(own.map(\.name)))")
        }
        for o in own { _ = o.data.update(fromContentsOf: byName[o.name]!) }
        self.step = step
    }

    /// A copy of the state (for tests and tools; checkpoints can read `stateTensors` directly).
    public func exportState() -> (tensors: [(name: String, data: [Float])], step: Int) {
        (stateTensors.map { ($0.name, Array($0.data)) }, step)
    }

    /// Copies the state of another optimizer of the same kind and size.
    public func importState(from other: any Optimizer) throws {
        guard other.kind == kind else { throw EngineError.mismatch("cannot load \(other.kind) state into \(kind)") }
        try importState(other.stateTensors.map { ($0.name, UnsafeBufferPointer($0.data)) }, step: other.step)
    }

    func checkStore(_ store: ParameterStore) throws {
        guard store.count == parameterCount else {
            throw EngineError.mismatch("\(kind): optimizer built for \(parameterCount) parameters, store has \(store.count)")
        }
    }
}

/// Throws `EngineError.parameter` naming the optimizer unless `ok`.
@inline(__always)
func requireHyper(_ ok: Bool, _ kind: String, _ message: @autoclosure () -> String) throws {
    guard ok else { throw EngineError.parameter(layer: kind, message: message()) }
}
