import DataIO
import Engine
import Foundation
import Models
import TestSupport
import XCTest

extension ModelCheck {
    /// Like `train`, on a per-pixel task whose classes are constant over aligned `block`×`block`
    /// tiles: each tile's class is the band (of the first K) raised over the tile, on noise.
    /// Models that predict at a coarser stride and upsample (FCN, DeepLab) or that route detail
    /// through pooling positions only (SegNet) cannot learn independent per-pixel classes; this
    /// one they can, down to blurred tile borders. Returns the mean loss of the first and of the
    /// last 5 steps.
    static func trainOnTiles(_ spec: [String: Any], input: [Int], block: Int, batch: Int = 8, steps: Int = 40,
                             lr: Float = 3e-3, seed: UInt64 = 1) throws -> (first: Float, last: Float) {
        let m = try ModelZoo.build(spec, batch: batch, input: input)
        precondition(m.task == .classification && m.outputShape.spatial == Array(input.dropFirst()), "a dense classifier")
        let ex = try m.plan()
        ex.parameters.initialize(seed: seed)
        let adam = try Adam(for: ex.parameters)
        let k = m.outputShape[1], bands = input[0], h = input[1], w = input[2]
        let x = ex.value(m.input), logits = ex.value(m.output), dLogits = ex.gradient(m.output)!
        let labels = HostLabelTensor(Shape(batch, h, w))
        var rng = SplitMix64(seed: seed &+ 7)
        var losses: [Float] = []
        for s in 0..<steps {
            for i in 0..<x.count { x.data[i] = 0.5 * rng.normal() }
            for n in 0..<batch {
                for ty in 0..<(h / block) {
                    for tx in 0..<(w / block) {
                        let c = Int(rng.next() % UInt64(min(k, bands)))
                        for y in (ty * block)..<((ty + 1) * block) {
                            for xx in (tx * block)..<((tx + 1) * block) {
                                x.data[((n * bands + c) * h + y) * w + xx] += 1.5
                                labels.data[(n * h + y) * w + xx] = Int32(c)
                            }
                        }
                    }
                }
            }
            ex.forward(mode: .training(seed: UInt64(s)))
            losses.append(try SoftmaxCrossEntropy().compute(logits: logits, target: .hard(labels.labels), gradient: dLogits))
            ex.parameters.zeroGrads()
            ex.backward(mode: .training(seed: UInt64(s)))
            try adam.update(ex.parameters, learningRate: lr)
        }
        let mean = { (a: ArraySlice<Float>) in a.reduce(0, +) / Float(a.count) }
        return (mean(losses.prefix(5)), mean(losses.suffix(5)))
    }
}
