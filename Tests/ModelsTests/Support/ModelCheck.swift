import DataIO
import Engine
import Foundation
import Models
import TestSupport
import XCTest

/// Checks every builder goes through: gradients of a whole tiny model, learning a small
/// synthetic task, weights round trips.
enum ModelCheck {
    /// Central-difference check of every parameter (sampled) and the input of a tiny model:
    /// the wiring of the whole graph (skips, concatenations, heads), in training mode (batch
    /// statistics, dropout with fixed masks). Elements whose ±step moves a ReLU sign or a
    /// max-pool argmax are skipped (GradCheck's kink rule), which lets the step stay at 1e-2,
    /// large enough that float32 rounding (amplified by batch norm) stays far below tolerance.
    static func gradients(_ spec: [String: Any], input: [Int], batch: Int = 2, step: Float = 1e-2, mode: Mode = .training(seed: 42),
                          file: StaticString = #filePath, line: UInt = #line) throws {
        let m = try ModelZoo.build(spec, batch: batch, input: input)
        try GradCheck.checkGraph(m.graph, inputs: [m.input], output: m.output, what: m.arch, mode: mode, step: step,
                                 maxPerTensor: 40, file: file, line: line)
    }

    /// Trains `steps` Adam steps on a learnable synthetic task matched to the model's output:
    ///   dense classification (N×K×spatial): a pixel's class is the band (of the first K) that
    ///     is raised at that pixel; scene classification (N×K): the band raised over the sample;
    ///   regression: the target is a fixed linear mix of bands (per pixel, or the sample mean);
    ///     when the output grid is an integer multiple of the input's (super-resolution), each
    ///     output pixel's target is the mix at the input pixel it lies in.
    /// Returns the mean loss of the first and of the last 5 steps.
    static func train(_ spec: [String: Any], input: [Int], batch: Int = 8, steps: Int = 40,
                      lr: Float = 3e-3, seed: UInt64 = 1) throws -> (first: Float, last: Float) {
        let r = try training(spec, input: input, batch: batch, steps: steps, lr: lr, seed: seed)
        return (r.first, r.last)
    }

    /// What `training` measured: the mean loss of the first and of the last 5 steps, and the
    /// loss of the best prediction that ignores the input (`blind`): for regression the mean
    /// squared target of the last 5 steps (the targets are centred, so predicting 0 is best);
    /// for classification ln(classes drawn). A falling loss alone can be the model shrinking a
    /// large initial output towards 0 — for regression, compare `last` with `blind`.
    struct Training {
        let first: Float
        let last: Float
        let blind: Float
    }

    /// `train` with the input-blind loss too (see `Training`).
    static func training(_ spec: [String: Any], input: [Int], batch: Int = 8, steps: Int = 40,
                         lr: Float = 3e-3, seed: UInt64 = 1) throws -> Training {
        let m = try ModelZoo.build(spec, batch: batch, input: input)
        let ex = try m.plan()
        ex.parameters.initialize(seed: seed)
        let adam = try Adam(for: ex.parameters)
        let out = m.outputShape, k = out[1]
        let x = ex.value(m.input), logits = ex.value(m.output), dLogits = ex.gradient(m.output)!
        let bands = input[0], perBand = input.dropFirst().reduce(1, *)
        let outPixels = out.spatial.reduce(1, *)
        // Super-resolution: the input pixel under each output pixel, if the output grid is the
        // input's refined by integer factors (>1 somewhere) in every spatial dim.
        let inSpatial = Array(input.dropFirst())
        var sourcePixel: [Int]? = nil
        if m.task == .regression, out.spatial.count == inSpatial.count, outPixels != perBand,
           zip(out.spatial, inSpatial).allSatisfy({ o, i in i > 0 && o % i == 0 }) {
            let factors = zip(out.spatial, inSpatial).map { $0 / $1 }
            sourcePixel = (0..<outPixels).map { p in
                var rest = p, src = 0, stride = 1
                for d in (0..<inSpatial.count).reversed() {
                    let o = rest % out.spatial[d]
                    rest /= out.spatial[d]
                    src += (o / factors[d]) * stride
                    stride *= inSpatial[d]
                }
                return src
            }
        }
        let labels = HostLabelTensor(Shape([batch] + out.spatial))
        let target = HostTensor(out)
        var rng = SplitMix64(seed: seed &+ 7)
        var losses: [Float] = [], blind: [Float] = []
        for s in 0..<steps {
            for i in 0..<x.count { x.data[i] = 0.5 * rng.normal() }
            for n in 0..<batch {
                let xn = x.data + n * bands * perBand
                if m.task == .classification {
                    if outPixels == 1 || outPixels != perBand {
                        // One class per sample: raise that band everywhere.
                        let c = Int(rng.next() % UInt64(min(k, bands)))
                        for i in 0..<perBand { xn[c * perBand + i] += 1.5 }
                        for p in 0..<outPixels { labels.data[n * outPixels + p] = Int32(c) }
                    } else {
                        // One class per pixel (the output grid is the input's).
                        for p in 0..<perBand {
                            let c = Int(rng.next() % UInt64(min(k, bands)))
                            xn[c * perBand + p] += 1.5
                            labels.data[n * outPixels + p] = Int32(c)
                        }
                    }
                } else {
                    for j in 0..<k {
                        for p in 0..<outPixels {
                            // Mix of bands: (band j − band j+1)/2, at the pixel or over the sample.
                            let b0 = j % bands, b1 = (j + 1) % bands
                            var v: Float = 0
                            if outPixels == perBand {
                                v = xn[b0 * perBand + p] - xn[b1 * perBand + p]
                            } else if let src = sourcePixel?[p] {
                                v = xn[b0 * perBand + src] - xn[b1 * perBand + src]
                            } else {
                                for i in 0..<perBand { v += xn[b0 * perBand + i] - xn[b1 * perBand + i] }
                                v /= Float(perBand)
                            }
                            target.data[(n * k + j) * outPixels + p] = 0.5 * v
                        }
                    }
                }
            }
            ex.forward(mode: .training(seed: UInt64(s)))
            let l: Float
            if m.task == .classification {
                l = try SoftmaxCrossEntropy().compute(logits: logits, target: .hard(labels.labels), gradient: dLogits)
            } else {
                l = try MeanSquaredError().compute(prediction: logits, target: target.tensor, gradient: dLogits)
                blind.append((0..<target.shape.count).reduce(0) { $0 + target.data[$1] * target.data[$1] } / Float(target.shape.count))
            }
            losses.append(l)
            ex.parameters.zeroGrads()
            ex.backward(mode: .training(seed: UInt64(s)))
            try adam.update(ex.parameters, learningRate: lr)
        }
        let mean = { (a: ArraySlice<Float>) in a.reduce(0, +) / Float(a.count) }
        let chance = m.task == .regression ? mean(blind.suffix(5)) : Float(log(Double(min(k, bands))))
        return Training(first: mean(losses.prefix(5)), last: mean(losses.suffix(5)), blind: chance)
    }

    /// Saves a model's weights (parameters and running statistics) to HDF5, loads them into a
    /// fresh build of the same spec and compares bit for bit; a differently sized model must be
    /// refused with a message naming a mismatched tensor.
    static func weightsRoundTrip(_ spec: [String: Any], input: [Int], mismatched: [String: Any],
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try Scratch.make("weights")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.h5"
        let a = try ModelZoo.build(spec, input: input).plan()
        a.parameters.initialize(seed: 5)
        for i in 0..<a.parameters.state.count { a.parameters.state.base[i] = Float(i % 7) * 0.25 }
        try WeightsFile.save(a.parameters, to: path)
        let b = try ModelZoo.build(spec, input: input).plan()
        try WeightsFile.load(b.parameters, from: path)
        XCTAssertEqual(Array(a.parameters.values.buffer).map(\.bitPattern), Array(b.parameters.values.buffer).map(\.bitPattern), file: file, line: line)
        XCTAssertEqual(Array(a.parameters.state.buffer).map(\.bitPattern), Array(b.parameters.state.buffer).map(\.bitPattern), file: file, line: line)
        let c = try ModelZoo.build(mismatched, input: input).plan()
        XCTAssertThrowsError(try WeightsFile.load(c.parameters, from: path), file: file, line: line) { e in
            XCTAssertTrue("\(e)".contains("shape") || "\(e)".contains("missing") || "\(e)".contains("unexpected"), "\(e)", file: file, line: line)
        }
    }
}
