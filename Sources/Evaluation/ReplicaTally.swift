import DataIO
import Engine
import Experiment

extension ModelReplica {
    /// Runs one batch of held-out windows in inference mode (no change to the model) and adds
    /// its pixels to `tally`: the same rows, mask and reference the trainer's validation scores.
    func tally(_ batch: SampleBatch, into tally: inout ClassTally) {
        let ex = executor
        feed.fill(batch, input: ex.value(model.input), targets: targets)
        ex.forward(mode: .inference)
        let out = ex.value(model.output)
        let s = out.shape, n = s.batch, sp = s.count / (n * s.channels)
        tally.add(logits: out.data, rows: n, spatial: sp, mask: targets.mask.data,
                  hard: targets.hard.map { UnsafePointer($0.data) }, soft: targets.soft.map { UnsafePointer($0.data) })
    }
}
