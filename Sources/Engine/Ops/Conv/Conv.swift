/// N-d convolution (cross-correlation, as in PyTorch). Shapes:
///   input   N×C×L  |  N×C×H×W  |  N×C×D×H×W          (1D, 2D, 3D by input rank)
///   weight  O×C×k…  (PyTorch layout; spatial dims as the input's)
///   bias    O
///   output  N×O×oL | N×O×oH×oW | N×O×oD×oH×oW,  o = ⌊(i + 2p − d·(k−1) − 1) / s⌋ + 1
/// Y = W·col(X) + b with W seen as O×K (K = C·∏k), computed by one of six algorithms
/// (`ConvAlgorithm`: Winograd, pointwise, implicit GEMM, per-tap, grouped im2col, patch-major
/// im2col), chosen once per layer when the graph is planned (`algorithm(_:batch:)` holds the rule).
/// With unit stride, tap rows and patches give the input gradient as the convolution of dY
/// with the flipped kernel (no col2im). Those GEMMs put output positions (or tiles) on the
/// GEMM rows: OpenBLAS runs the few-channel convolutions of a U-Net much faster that way than
/// with channels as rows; the grouped forms keep channels as rows (many channels, few positions).
public struct Conv: Layer {
    public let outChannels: Int
    /// Spatial dims (1, 2, 3) if fixed; nil accepts any and takes them from the input rank.
    public let dims: Int?
    /// If set, the input must have this many channels.
    public let inChannels: Int?
    public let settings: ConvSettings
    public let bias: Bool

    /// Scalar kernel/stride/padding/dilation applied to every spatial dim.
    public init(outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                bias: Bool = true, dims: Int? = nil, inChannels: Int? = nil) {
        self.outChannels = outChannels
        self.dims = dims
        self.inChannels = inChannels
        settings = ConvSettings(kernel: [kernel], stride: [stride], padding: [padding], dilation: [dilation])
        self.bias = bias
    }

    /// Per-dim lists (outermost first); their length fixes `dims`. Omitted lists mean
    /// stride 1, padding 0, dilation 1.
    public init(outChannels: Int, kernel: [Int], stride: [Int]? = nil, padding: [Int]? = nil, dilation: [Int]? = nil,
                bias: Bool = true, inChannels: Int? = nil) {
        self.outChannels = outChannels
        dims = kernel.count
        self.inChannels = inChannels
        settings = ConvSettings(kernel: kernel, stride: stride ?? [1], padding: padding ?? [0], dilation: dilation ?? [1])
        self.bias = bias
    }

    public var kind: String { dims.map { "conv\($0)d" } ?? "conv" }
    /// The kind for an input shape ("conv2d" for N×C×H×W), for summaries of dims-free layers.
    public func kind(for inputs: [Shape]) -> String { "conv\(inputs[0].rank - 2)d" }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        let sr = try settings.checkInput(inputs, dims: dims, outChannels: outChannels, inChannels: inChannels, layer: name)
        let x = inputs[0]
        let ks = settings.list(settings.kernel, spatialRank: sr), ss = settings.list(settings.stride, spatialRank: sr)
        let ps = settings.list(settings.padding, spatialRank: sr), ds = settings.list(settings.dilation, spatialRank: sr)
        var out = [x.batch, outChannels]
        for j in 0..<sr {
            let span = ds[j] * (ks[j] - 1) + 1, padded = x.dims[2 + j] + 2 * ps[j]
            guard span <= padded else {
                throw EngineError.shape(layer: name,
                                        expected: "spatial dim \(j) of at least kernel span \(span) after padding \(ps[j]) (kernel \(ks), dilation \(ds))",
                                        got: "\(x) (padded size \(padded))")
            }
            out.append((padded - span) / ss[j] + 1)
        }
        return Shape(out)
    }

    public func parameters(_ inputs: [Shape]) -> [TensorSpec] {
        let x = inputs[0], sr = x.rank - 2
        let k = settings.list(settings.kernel, spatialRank: sr)
        let fanIn = x.channels * k.reduce(1, *)
        var specs = [TensorSpec("weight", Shape([outChannels, x.channels] + k), .heUniform(fanIn: fanIn))]
        if bias { specs.append(TensorSpec("bias", Shape(outChannels), .zeros)) }
        return specs
    }

    /// Chooses the algorithm for these shapes (`algorithm(_:batch:)`) and sizes its memory.
    public func plan(_ inputs: [Shape], output: Shape) -> LayerPlan {
        let batch = inputs[0].batch
        let a = algorithm(PatchGeometry(image: inputs[0], outSpatial: output, settings: settings), batch: batch)
        return LayerPlan(algorithm: a, savedCount: a.savedCount, workspaceCount: workspaceCount(a, batch: batch))
    }

    /// Direct-convolution flops, 2·N·O·K·P each for Y, dW and dX, whatever form runs: for
    /// Winograd layers a profile's GFLOP/s is the effective rate (2.25× fewer multiplications),
    /// for small-map taps likewise (padding taps skipped).
    public func flops(_ inputs: [Shape], output: Shape) -> LayerFlops {
        let g = PatchGeometry(image: inputs[0], outSpatial: output, settings: settings)
        let f = 2 * Double(inputs[0].batch) * Double(outChannels) * Double(g.rows) * Double(g.positions)
        return LayerFlops(forward: f, backwardParams: f, backwardInputs: f)
    }

    // forward: Y = W·col(X) + b
    public func forward(_ c: LayerContext, mode: Mode) {
        switch c.planned(ConvAlgorithm.self) {
        case .winograd(let f): forwardWinograd(c, f)
        case .pointwise(let g): forwardPointwise(c, g)
        case .implicitGEMM(let plan): forwardTaps(c, plan)
        case .taps(let plan): smallMapTapsForward(c, plan)
        case .im2col(let g, let ch): groupedForward(c, g, ch)
        case .patches(let plan): forwardPatches(c, plan)
        }
    }

    public var writesFreshInputGradients: Bool { true }

    // backward: db += Σ dY, dW += dY·col(X)ᵀ, dX += col2im(Wᵀ·dY)  (dX = … where marked fresh)
    public func backward(_ c: LayerContext, mode: Mode) {
        // The grouped forms (taps, im2col) sum the bias gradient from their gathered dY.
        switch c.planned(ConvAlgorithm.self) {
        case .winograd(let f): biasGradient(c); backwardWinograd(c, f)
        case .pointwise(let g): biasGradient(c); backwardPointwise(c, g)
        case .implicitGEMM(let plan): biasGradient(c); backwardTaps(c, plan)
        case .taps(let plan): smallMapTapsBackward(c, plan, fresh: c.isFresh(0))
        case .im2col(let g, let ch): groupedBackward(c, g, ch, fresh: c.isFresh(0))
        case .patches(let plan): biasGradient(c); backwardPatches(c, plan)
        }
    }

    // db += Σ dY
    func biasGradient(_ c: LayerContext) {
        guard bias else { return }
        let dy = c.dOutput.shape
        ConvKernels.biasGradient(c.dOutput.data, batch: dy.batch, rows: outChannels, p: dy.count / (dy.batch * outChannels),
                                 into: c.grads[1].data)
    }

    // dW += Gᵀ(Σ (A dY Aᵀ) ⊙ V)G; dX = the same convolution of dY with the kernels rotated
    func backwardWinograd(_ c: LayerContext, _ f: Winograd) {
        let batch = c.inputs[0].shape.batch
        f.weightGradient(c.inputs[0].data, c.dOutput.data, batch: batch, into: c.grads[0].data, workspace: c.workspace)
        guard let dx = c.dInputs[0]?.data else { return }
        let t = f.transposed
        Winograd.transformWeights(c.params[0].data, outChannels: outChannels, channels: f.channels, depth: f.kd, inputGradient: true,
                                  into: c.workspace + Winograd.Layout(t, batch: batch).u)
        t.run(c.dOutput.data, batch: batch, bias: nil, into: dx, add: !c.isFresh(0), workspace: c.workspace)
    }

    func forwardWinograd(_ c: LayerContext, _ f: Winograd) {
        let batch = c.inputs[0].shape.batch
        Winograd.transformWeights(c.params[0].data, outChannels: outChannels, channels: f.channels, depth: f.kd, inputGradient: false,
                                  into: c.workspace + Winograd.Layout(f, batch: batch).u)
        f.run(c.inputs[0].data, batch: batch, bias: bias ? UnsafePointer(c.params[1].data) : nil, into: c.output.data,
              add: false, workspace: c.workspace)
    }

    // Y[n] = W·X[n] + b
    func forwardPointwise(_ c: LayerContext, _ g: PatchGeometry) {
        let batch = c.inputs[0].shape.batch, x = c.inputs[0].data, y = c.output.data, w = c.params[0].data
        let b: UnsafePointer<Float>? = bias ? UnsafePointer(c.params[1].data) : nil
        let o = outChannels, k = g.rows, p = g.positions, xs = g.imageCount
        for n in 0..<batch {
            let yn = y + n * o * p
            if bias { ConvKernels.fillRows(yn, rows: o, count: p, ld: p, bias: b) }
            BLAS.sgemm(m: o, n: p, k: k, a: w, lda: k, b: x + n * xs, ldb: p, beta: bias ? 1 : 0, c: yn, ldc: p)
        }
    }

    // dW += dY[n]·X[n]ᵀ, dX[n] += Wᵀ·dY[n]
    func backwardPointwise(_ c: LayerContext, _ g: PatchGeometry) {
        let batch = c.inputs[0].shape.batch, x = c.inputs[0].data, dy = c.dOutput.data
        let w = c.params[0].data, dw = c.grads[0].data, dx = c.dInputs[0]?.data
        let o = outChannels, k = g.rows, p = g.positions, xs = g.imageCount
        for n in 0..<batch {
            let dyn = dy + n * o * p, xn = x + n * xs
            BLAS.sgemm(transB: true, m: o, n: k, k: p, a: dyn, lda: p, b: xn, ldb: p, beta: 1, c: dw, ldc: k)
            if let dx {
                BLAS.sgemm(transA: true, m: k, n: p, k: o, a: w, lda: k, b: dyn, ldb: p, beta: c.isFresh(0) ? 0 : 1,
                           c: dx + n * xs, ldc: p)
            }
        }
    }

    // per chunk of lines: Yᵀ[rows×O] = Q·W''ᵀ (one GEMM per column residue), then
    // Y[n, o, p] = Yᵀ[p, o] + b[o]
    func forwardTaps(_ c: LayerContext, _ plan: TapPlan) {
        let batch = c.inputs[0].shape.batch, x = c.inputs[0].data, y = c.output.data, w = c.params[0].data
        let b: UnsafePointer<Float>? = bias ? UnsafePointer(c.params[1].data) : nil
        let o = outChannels, t = plan.t
        let ws = c.workspace, wr = ws + plan.wr, q = ws + plan.q, tmp = ws + plan.tmp
        t.reorder(w, outChannels: o, into: wr)
        plan.forward.forEach(t, batch: batch) { first, count in
            t.buildQ(x, q, first: first, count: count)
            t.multiply(q, count: count, weights: wr, outChannels: o, into: tmp)
            t.store(tmp, ld: o, first: first, count: count, outChannels: o, into: y, add: false, bias: b)
        }
    }

    // dW''ᵀ[K×O] += Qᵀ·dYᵀ per chunk; dX = the convolution of dY with the flipped kernel
    // (padding d·(k−1) − p), itself in tap rows: dXᵀ = Q(dY)·Wf''ᵀ
    func backwardTaps(_ c: LayerContext, _ plan: TapPlan) {
        let batch = c.inputs[0].shape.batch, x = c.inputs[0].data, dy = c.dOutput.data
        let w = c.params[0].data, dw = c.grads[0].data, dx = c.dInputs[0]?.data
        let t = plan.t, f = plan.f, o = outChannels, cin = t.channels
        let ws = c.workspace, wr = ws + plan.wr, dwt = ws + plan.dwt, q = ws + plan.q
        let dyt = ws + plan.dyt, tmp = ws + plan.tmp
        dwt.update(repeating: 0, count: t.rows * o)
        plan.forward.forEach(t, batch: batch) { first, count in
            t.buildQ(x, q, first: first, count: count)
            t.gatherGradient(dy, outChannels: o, first: first, count: count, into: dyt)
            t.multiplyGradient(q, count: count, dy: dyt, outChannels: o, into: dwt)
        }
        t.addGradient(dwt, outChannels: o, into: dw)
        guard let dx else { return }
        let fresh = c.isFresh(0)
        t.reorderFlipped(w, outChannels: o, into: wr)
        plan.inputGradient.forEach(f, batch: batch) { first, count in
            f.buildQ(dy, q, first: first, count: count)
            f.multiply(q, count: count, weights: wr, outChannels: cin, into: tmp)
            f.store(tmp, ld: cin, first: first, count: count, outChannels: cin, into: dx, add: !fresh, bias: nil)
        }
    }

    // per chunk of output positions (rows): Yᵀ[rows×O] = colPM(X)[rows×K]·W'ᵀ, then
    // Y[n, o, p] = Yᵀ[p, o] + b[o]
    func forwardPatches(_ c: LayerContext, _ plan: PatchPlan) {
        let batch = c.inputs[0].shape.batch, x = c.inputs[0].data, y = c.output.data, w = c.params[0].data
        let b: UnsafePointer<Float>? = bias ? UnsafePointer(c.params[1].data) : nil
        let g = plan.g, o = outChannels, k = g.rows, p = g.positions, xs = g.imageCount
        let ws = c.workspace
        let xt = ws + plan.xT, wr = ws + plan.wr, col = ws + plan.col, tmp = ws + plan.tmp
        Transpose.toChannelsLast(x, batch: batch, channels: g.channels, positions: xs / g.channels, into: xt)
        ConvKernels.reorderTapsLast(w, outChannels: o, channels: g.channels, taps: g.taps, into: wr)
        plan.forward.forEach(g, batch: batch) { first, count in
            let rows = count * g.ow
            g.im2colPM(xt, col, first: first, count: count)
            BLAS.sgemm(transB: true, m: rows, n: o, k: k, a: col, lda: k, b: wr, ldb: k, beta: 0, c: tmp, ldc: o)
            Transpose.positionsToImages(tmp, ld: o, first: first * g.ow, count: rows, channels: o, positions: p,
                                        into: y, add: false, bias: b)
        }
    }

    //   dW'ᵀ[K×O] += colPM(X)ᵀ·dYᵀ per chunk, then dW[o, c, t] += dW'ᵀ[(t, c), o]
    //   stride 1: dX is the convolution of dY with the flipped kernel (padding d·(k−1) − p):
    //             dXᵀ[rows×C] = colPM(dY)[rows×T·O]·Wfᵀ, Wf[c, (t, o)] = W[o, c, T−1−t]
    //   strided:  dcol[rows×K] = dYᵀ·W', added back by col2imPM into dX channels-last
    func backwardPatches(_ c: LayerContext, _ plan: PatchPlan) {
        let batch = c.inputs[0].shape.batch, x = c.inputs[0].data, dy = c.dOutput.data
        let w = c.params[0].data, dw = c.grads[0].data, dx = c.dInputs[0]?.data
        let g = plan.g, o = outChannels, k = g.rows, p = g.positions, xs = g.imageCount
        let fresh = c.isFresh(0)
        let ws = c.workspace, cin = g.channels, taps = g.taps, pin = xs / cin
        let xt = ws + plan.xT, dyt = ws + plan.dyT, wr = ws + plan.wr, dwt = ws + plan.dwt
        let col = ws + plan.col, tmp = ws + plan.tmp
        Transpose.toChannelsLast(x, batch: batch, channels: cin, positions: pin, into: xt)
        Transpose.toChannelsLast(dy, batch: batch, channels: o, positions: p, into: dyt)

        dwt.update(repeating: 0, count: k * o)
        plan.forward.forEach(g, batch: batch) { first, count in
            let rows = count * g.ow
            g.im2colPM(xt, col, first: first, count: count)
            BLAS.sgemm(transA: true, m: k, n: o, k: rows, a: col, lda: k, b: dyt + first * g.ow * o, ldb: o,
                       beta: 1, c: dwt, ldc: o)
        }
        ConvKernels.addTapsLastTransposed(dwt, outChannels: o, channels: cin, taps: taps, into: dw)
        guard let dx else { return }

        if let f = plan.flipped {
            ConvKernels.reorderFlipped(w, outChannels: o, channels: cin, taps: taps, into: wr)
            let k2 = f.rows
            plan.inputGradient.forEach(f, batch: batch) { first, count in
                let rows = count * f.ow
                f.im2colPM(dyt, col, first: first, count: count)
                BLAS.sgemm(transB: true, m: rows, n: cin, k: k2, a: col, lda: k2, b: wr, ldb: k2, beta: 0, c: tmp, ldc: cin)
                Transpose.positionsToImages(tmp, ld: cin, first: first * f.ow, count: rows, channels: cin, positions: pin,
                                            into: dx, add: !fresh, bias: nil)
            }
        } else {
            // xT is spent: it becomes dX channels-last.
            ConvKernels.reorderTapsLast(w, outChannels: o, channels: cin, taps: taps, into: wr)
            xt.update(repeating: 0, count: batch * xs)
            plan.forward.forEach(g, batch: batch) { first, count in
                let rows = count * g.ow
                BLAS.sgemm(m: rows, n: k, k: o, a: dyt + first * g.ow * o, lda: o, b: wr, ldb: k, beta: 0, c: col, ldc: k)
                g.col2imPM(col, xt, first: first, count: count)
            }
            Transpose.positionsToImages(xt, ld: cin, first: 0, count: batch * pin, channels: cin, positions: pin,
                                        into: dx, add: !fresh, bias: nil)
        }
    }

    // grouped forward, per group of nb samples (see ConvGrouped.swift):
    //   col = im2col of the group [K×nb·P];  Yg = W·col [O×nb·P];  Y[n0+s] = Yg[:, s·P…] + b
    func groupedForward(_ c: LayerContext, _ g: PatchGeometry, _ ch: ColumnChunks) {
        let batch = c.inputs[0].shape.batch, x = c.inputs[0].data, y = c.output.data, w = c.params[0].data
        let b: UnsafePointer<Float>? = bias ? UnsafePointer(c.params[1].data) : nil
        let o = outChannels, k = g.rows, p = g.positions
        let col = c.workspace, tmp = col + k * ch.columns
        let table = UnsafeMutableRawPointer(tmp + o * ch.columns).assumingMemoryBound(to: Int32.self)
        g.fillGroupTable(table)
        var n0 = 0
        while n0 < batch {
            let nb = min(ch.group, batch - n0), cols = nb * p
            g.groupIm2col(x, n0: n0, nb: nb, table: table, into: col)
            BLAS.sgemm(m: o, n: cols, k: k, a: w, lda: k, b: col, ldb: cols, beta: 0, c: tmp, ldc: cols)
            GroupRows.scatter(tmp, rows: o, p: p, n0: n0, nb: nb, bias: b, into: y)
            n0 += nb
        }
    }

    // grouped backward, per group of nb samples (see ConvGrouped.swift):
    //   dYg = gather(dY) [O×nb·P];  db += row sums of dYg;  dW += dYg·colᵀ;
    //   dcol = Wᵀ·dYg [K×nb·P];  dX += col2im(dcol)  (a pointwise kernel writes a fresh dX directly)
    func groupedBackward(_ c: LayerContext, _ g: PatchGeometry, _ ch: ColumnChunks, fresh: Bool) {
        let batch = c.inputs[0].shape.batch
        let x = c.inputs[0].data, dy = c.dOutput.data, w = c.params[0].data, dw = c.grads[0].data
        let dx = c.dInputs[0]?.data
        let o = outChannels, k = g.rows, p = g.positions
        let col = c.workspace, tmp = col + k * ch.columns
        let table = UnsafeMutableRawPointer(tmp + o * ch.columns).assumingMemoryBound(to: Int32.self)
        g.fillGroupTable(table)
        // The table col2im adds; only the pointwise one can write a fresh dX.
        let writeFresh = fresh && g.isPointwise
        if fresh && !writeFresh, let dx { dx.update(repeating: 0, count: batch * g.imageCount) }
        var n0 = 0
        while n0 < batch {
            let nb = min(ch.group, batch - n0), cols = nb * p
            GroupRows.gather(dy, rows: o, p: p, n0: n0, nb: nb, into: tmp)
            if bias { GroupRows.rowSums(tmp, rows: o, cols: cols, into: c.grads[1].data) }
            g.groupIm2col(x, n0: n0, nb: nb, table: table, into: col)
            BLAS.sgemm(transB: true, m: o, n: k, k: cols, a: tmp, lda: cols, b: col, ldb: cols, beta: 1, c: dw, ldc: k)
            if let dx {
                // The columns are spent: reuse their space for dcol.
                BLAS.sgemm(transA: true, m: k, n: cols, k: o, a: w, lda: k, b: tmp, ldb: cols, beta: 0, c: col, ldc: cols)
                g.groupCol2im(col, n0: n0, nb: nb, table: table, into: dx, fresh: writeFresh)
            }
            n0 += nb
        }
    }
}
