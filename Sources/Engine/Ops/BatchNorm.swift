/// Batch normalisation. Shapes: N×C, N×C×L, N×C×H×W or N×C×D×H×W → same.
/// Statistics are per channel over the batch and all spatial positions (M = N·spatial values).
///
///   training:  μ, σ² = mean and biased variance of the batch;  y = γ·(x − μ)/√(σ² + ε) + β
///              running_mean ← (1 − m)·running_mean + m·μ
///              running_var  ← (1 − m)·running_var  + m·σ²·M/(M − 1)   (unbiased, as PyTorch)
///   inference: y = γ·(x − running_mean)/√(running_var + ε) + β
///
/// With `relu`, the layer is BatchNorm then ReLU in one pass (kind "batchnorm_relu"):
/// y = max(BN(x), 0). Backward masks dY by y > 0 (the same as BN(x) > 0) and needs no
/// separate pre-activation tensor: a U-Net block saves one activation and one gradient of the
/// image size, and two passes over it each way.
///
/// Parameters (if `affine`): weight γ [C] (ones), bias β [C] (zeros).
/// State (checkpointed, not trained): running_mean [C] (zeros), running_var [C] (ones).
/// Saved: [training flag, μ [C], 1/√(σ² + ε) [C]] — backward follows what forward did.
///
/// Precision: per-channel sums run in Float over blocks of 256 values (8 SIMD lanes × 32
/// terms) and the block sums are added in Double, so the error does not grow with M (a plain
/// Float running sum over ~1M values would lose ~3 digits). Values are shifted by the
/// channel's first element before summing, so E[(x−K)²] − E[x−K]² does not cancel badly when
/// |mean| ≫ std.
///
/// Data parallel: this layer is purely local. In training each rank normalises with its own
/// local batch statistics (no all-reduce), and updates its own running statistics; which
/// rank's running statistics are kept (rank 0 / the group leader, or a broadcast before
/// saving) is the trainer's decision. With M = 1 (batch 1, no spatial extent) the unbiased
/// variance is undefined; PyTorch refuses, we use the biased one (0).
public struct BatchNorm: Layer {
    public let momentum: Float
    public let eps: Float
    public let affine: Bool
    /// ReLU fused after the normalisation.
    public let relu: Bool

    public init(momentum: Float = 0.1, eps: Float = 1e-5, affine: Bool = true, relu: Bool = false) {
        self.momentum = momentum
        self.eps = eps
        self.affine = affine
        self.relu = relu
    }

    public var kind: String { relu ? "batchnorm_relu" : "batchnorm" }
    public var writesFreshInputGradients: Bool { true }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        try requireInputs(inputs, 1, layer: name)
        let s = inputs[0]
        guard (2...5).contains(s.rank), s.dims.allSatisfy({ $0 > 0 }) else {
            throw EngineError.shape(layer: name, expected: "N×C, N×C×L, N×C×H×W or N×C×D×H×W with positive sizes", got: "\(s)")
        }
        guard momentum >= 0, momentum <= 1 else {
            throw EngineError.parameter(layer: name, message: "momentum \(momentum) outside [0, 1]")
        }
        guard eps > 0 else {
            throw EngineError.parameter(layer: name, message: "eps \(eps) must be > 0")
        }
        return s
    }

    public func parameters(_ inputs: [Shape]) -> [TensorSpec] {
        guard affine else { return [] }
        let c = inputs[0].channels
        return [TensorSpec("weight", Shape(c), .ones), TensorSpec("bias", Shape(c), .zeros)]
    }

    public func state(_ inputs: [Shape]) -> [TensorSpec] {
        let c = inputs[0].channels
        return [TensorSpec("running_mean", Shape(c), .zeros), TensorSpec("running_var", Shape(c), .ones)]
    }

    /// Saved: the batch statistics. Workspace: with few positions per channel, the spread
    /// path's rows of C·S (`spreadWorkspace`).
    public func plan(_ inputs: [Shape], output: Shape) -> LayerPlan {
        LayerPlan(savedCount: 1 + 2 * inputs[0].channels, workspaceCount: Self.spreadWorkspace(inputs[0]))
    }

    // forward: per channel, y = (x − μ)·(γ·inv) + β with (μ, inv) from the batch or the running stats
    public func forward(_ c: LayerContext, mode: Mode) {
        let s = c.inputs[0].shape
        let n = s.batch, ch = s.channels, sp = s.count / (n * ch), m = n * sp
        let x = c.inputs[0].data, y = c.output.data
        let runMean = c.state[0].data, runVar = c.state[1].data
        let training = mode.isTraining
        c.saved[0] = training ? 1 : 0
        if Self.spreads(s) { return spreadForward(c, training: training) }
        let mean = c.saved + 1, inv = c.saved + 1 + ch
        for k in 0..<ch {
            if training {
                let shift = x[k * sp]
                var s1 = 0.0, s2 = 0.0
                for b in 0..<n {
                    let (a1, a2) = bnShiftedSums(x + (b * ch + k) * sp, count: sp, shift: shift)
                    s1 += a1; s2 += a2
                }
                let dm = s1 / Double(m)
                let v = max(s2 / Double(m) - dm * dm, 0)
                let mu = Double(shift) + dm
                mean[k] = Float(mu)
                inv[k] = Float(1 / (v + Double(eps)).squareRoot())
                let unbiased = m > 1 ? v * Double(m) / Double(m - 1) : v
                let mo = Double(momentum)
                runMean[k] = Float((1 - mo) * Double(runMean[k]) + mo * mu)
                runVar[k] = Float((1 - mo) * Double(runVar[k]) + mo * unbiased)
            } else {
                mean[k] = runMean[k]
                inv[k] = Float(1 / (Double(runVar[k]) + Double(eps)).squareRoot())
            }
            let mu = mean[k]
            let a = affine ? c.params[0].data[k] * inv[k] : inv[k]
            let beta: Float = affine ? c.params[1].data[k] : 0
            for b in 0..<n {
                let xp = x + (b * ch + k) * sp, yp = y + (b * ch + k) * sp
                if relu {
                    let zero = SIMD8<Float>() // NaN passes, as max(NaN, 0) does
                    Lanes.each(sp) { i, l in
                        let v = (Lanes.load(xp + i, l) - mu) * a + beta
                        Lanes.put(v.replacing(with: zero, where: v .< zero), yp + i, l, add: false)
                    }
                } else {
                    Lanes.each(sp) { i, l in Lanes.put((Lanes.load(xp + i, l) - mu) * a + beta, yp + i, l, add: false) }
                }
            }
        }
    }

    // backward, with x̂ = (x − μ)·inv, g = dy (relu: dy·[y > 0]), Σ over the channel's M values:
    //   dβ += Σ g,  dγ += Σ g·x̂
    //   training:  dx += γ·inv·(g − Σg/M − x̂·Σ(g·x̂)/M)   (μ, σ² depend on every x)
    //   inference: dx += γ·inv·g                          (running stats are constants)
    // (dx = … where the executor marks dx fresh)
    public func backward(_ c: LayerContext, mode: Mode) {
        let s = c.inputs[0].shape
        if Self.spreads(s) { return spreadBackward(c) }
        let n = s.batch, ch = s.channels, sp = s.count / (n * ch), m = n * sp
        let x = c.inputs[0].data, dy = c.dOutput.data, y = c.output.data
        let training = c.saved[0] != 0
        let mean = c.saved + 1, inv = c.saved + 1 + ch
        let dx = c.dInputs[0]?.data
        let add = !c.isFresh(0)
        let needSums = affine || (training && dx != nil)
        for k in 0..<ch {
            let mu = mean[k], iv = inv[k]
            var sdy = 0.0, sdyx = 0.0
            if needSums {
                for b in 0..<n {
                    let off = (b * ch + k) * sp
                    let (a1, a2) = relu ? bnGradSums(dy + off, x + off, mask: y + off, count: sp, mean: mu)
                                        : bnGradSums(dy + off, x + off, count: sp, mean: mu)
                    sdy += a1; sdyx += a2
                }
            }
            let sdyxhat = sdyx * Double(iv)
            if affine {
                c.grads[0].data[k] += Float(sdyxhat)
                c.grads[1].data[k] += Float(sdy)
            }
            guard let dx else { continue }
            let g = (affine ? c.params[0].data[k] : 1) * iv
            // Inference: the means are 0, leaving γ·inv·g.
            let meanDy = training ? Float(sdy / Double(m)) : 0, meanDyXhat = training ? Float(sdyxhat / Double(m)) : 0
            for b in 0..<n {
                let off = (b * ch + k) * sp
                let xp = x + off, dyp = dy + off, dxp = dx + off, yp = y + off
                if relu {
                    Lanes.each(sp) { i, l in
                        let gy = Lanes.mask(Lanes.load(dyp + i, l), Lanes.load(yp + i, l) .> 0)
                        let xhat = (Lanes.load(xp + i, l) - mu) * iv
                        Lanes.put(g * (gy - meanDy - xhat * meanDyXhat), dxp + i, l, add: add)
                    }
                } else {
                    Lanes.each(sp) { i, l in
                        let xhat = (Lanes.load(xp + i, l) - mu) * iv
                        Lanes.put(g * (Lanes.load(dyp + i, l) - meanDy - xhat * meanDyXhat), dxp + i, l, add: add)
                    }
                }
            }
        }
    }
}

/// (Σ (x − shift), Σ (x − shift)²) over `count` contiguous values: Float SIMD sums over blocks
/// of 256, block sums accumulated in Double.
@inline(__always)
func bnShiftedSums(_ p: UnsafePointer<Float>, count: Int, shift: Float) -> (Double, Double) {
    var s1 = 0.0, s2 = 0.0
    var i = 0
    let k = SIMD8<Float>(repeating: shift)
    while i + 8 <= count {
        let end = min(count, i + 256)
        var a1 = SIMD8<Float>(), a2 = SIMD8<Float>()
        while i + 8 <= end {
            let v = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self) - k
            a1 += v
            a2 += v * v
            i += 8
        }
        s1 += Double(a1.sum()); s2 += Double(a2.sum())
    }
    while i < count {
        let v = Double(p[i] - shift)
        s1 += v; s2 += v * v
        i += 1
    }
    return (s1, s2)
}

/// (Σ g, Σ g·(x − mean)) with g = dy where mask > 0, else 0: the sums of `bnGradSums` for a
/// ReLU fused after the normalisation (mask = its output).
@inline(__always)
func bnGradSums(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, mask y: UnsafePointer<Float>, count: Int, mean: Float) -> (Double, Double) {
    var s1 = 0.0, s2 = 0.0
    var i = 0
    let mu = SIMD8<Float>(repeating: mean)
    while i + 8 <= count {
        let end = min(count, i + 256)
        var a1 = SIMD8<Float>(), a2 = SIMD8<Float>()
        while i + 8 <= end {
            let g = Lanes.mask(UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self),
                               UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self) .> 0)
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - mu
            a1 += g
            a2 += g * v
            i += 8
        }
        s1 += Double(a1.sum()); s2 += Double(a2.sum())
    }
    while i < count {
        let g = y[i] > 0 ? Double(dy[i]) : 0
        s1 += g; s2 += g * Double(x[i] - mean)
        i += 1
    }
    return (s1, s2)
}

/// (Σ dy, Σ dy·(x − mean)) over `count` contiguous values, accumulated like `bnShiftedSums`.
@inline(__always)
func bnGradSums(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, count: Int, mean: Float) -> (Double, Double) {
    var s1 = 0.0, s2 = 0.0
    var i = 0
    let mu = SIMD8<Float>(repeating: mean)
    while i + 8 <= count {
        let end = min(count, i + 256)
        var a1 = SIMD8<Float>(), a2 = SIMD8<Float>()
        while i + 8 <= end {
            let g = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self) - mu
            a1 += g
            a2 += g * v
            i += 8
        }
        s1 += Double(a1.sum()); s2 += Double(a2.sum())
    }
    while i < count {
        let g = Double(dy[i])
        s1 += g; s2 += g * Double(x[i] - mean)
        i += 1
    }
    return (s1, s2)
}
