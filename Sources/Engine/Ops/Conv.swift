/// N-d convolution (cross-correlation, as in PyTorch). Shapes:
///   input   N×C×L  |  N×C×H×W  |  N×C×D×H×W          (1D, 2D, 3D by input rank)
///   weight  O×C×k…  (PyTorch layout; spatial dims as the input's)
///   bias    O
///   output  N×O×oL | N×O×oH×oW | N×O×oD×oH×oW,  o = ⌊(i + 2p − d·(k−1) − 1) / s⌋ + 1
/// Per sample: Y = W·col(X) + b with W seen as O×K (K = C·∏k), via im2col + sgemm over
/// cache-sized column chunks (see Im2col.swift). A pointwise kernel (1×1, stride 1, no
/// padding) multiplies the input directly.
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

    public func workspaceCount(_ inputs: [Shape], output: Shape) -> Int {
        let g = PatchGeometry(image: inputs[0], outSpatial: output, settings: settings)
        if usesDirectGEMM(g) { return 0 }
        if let plan = tapPlan(g, batch: inputs[0].batch) { return plan.workspace }
        let ch = ColumnChunks(g, batch: inputs[0].batch)
        // grouped: columns, product, tap table (T×P Int32)
        return g.rows * ch.columns + (ch.group > 1 ? outChannels * ch.columns + g.taps * g.positions : 0)
    }

    /// The per-tap path keeps the tap-major weight (T×O×C) from forward for backward.
    public func savedCount(_ inputs: [Shape], output: Shape) -> Int {
        let g = PatchGeometry(image: inputs[0], outSpatial: output, settings: settings)
        return tapPlan(g, batch: inputs[0].batch) == nil ? 0 : g.taps * outChannels * g.channels
    }

    /// The per-tap plan (ConvTaps.swift) when it applies: samples grouped, stride 1, padding.
    func tapPlan(_ g: PatchGeometry, batch: Int) -> TapPlan? {
        TapPlan.applies(g, grouped: ColumnChunks(g, batch: batch).group > 1) ? TapPlan(g, outChannels: outChannels, batch: batch) : nil
    }

    /// GEMM flops: 2·N·O·K·P each for Y, dW and dX.
    public func flops(_ inputs: [Shape], output: Shape) -> LayerFlops {
        let g = PatchGeometry(image: inputs[0], outSpatial: output, settings: settings)
        let f = 2 * Double(inputs[0].batch) * Double(outChannels) * Double(g.rows) * Double(g.positions)
        return LayerFlops(forward: f, backwardParams: f, backwardInputs: f)
    }

    /// Pointwise kernels multiply the input itself when a sample has enough columns for a
    /// good GEMM; below that, gathering samples side by side (im2col path) is faster.
    @inline(__always)
    private func usesDirectGEMM(_ g: PatchGeometry) -> Bool { g.isPointwise && g.positions >= ColumnChunks.minColumns }

    // forward: Y[n] = W · col(X[n]) + b
    public func forward(_ c: LayerContext, mode: Mode) {
        let xT = c.inputs[0], batch = xT.shape.batch
        let g = PatchGeometry(image: xT.shape, outSpatial: c.output.shape, settings: settings)
        let x = xT.data, y = c.output.data, w = c.params[0].data
        let b: UnsafePointer<Float>? = bias ? UnsafePointer(c.params[1].data) : nil
        let o = outChannels, k = g.rows, p = g.positions, xs = g.imageCount
        let beta: Float = bias ? 1 : 0

        if usesDirectGEMM(g) {
            for n in 0..<batch {
                let yn = y + n * o * p
                if bias { ConvKernels.fillRows(yn, rows: o, count: p, ld: p, bias: b) }
                BLAS.sgemm(m: o, n: p, k: k, a: w, lda: k, b: x + n * xs, ldb: p, beta: beta, c: yn, ldc: p)
            }
            return
        }
        if let plan = tapPlan(g, batch: batch) { return tapForward(c, plan) }
        let ch = ColumnChunks(g, batch: batch)
        let col = c.workspace
        if ch.group > 1 {
            let tmp = col + k * ch.columns
            let table = UnsafeMutableRawPointer(tmp + o * ch.columns).assumingMemoryBound(to: Int32.self)
            g.fillTapTable(table)
            var n0 = 0
            while n0 < batch {
                let nb = min(ch.group, batch - n0), cols = nb * p
                g.groupIm2col(x, n0: n0, nb: nb, table: table, into: col)
                BLAS.sgemm(m: o, n: cols, k: k, a: w, lda: k, b: col, ldb: cols, beta: 0, c: tmp, ldc: cols)
                GroupRows.scatter(tmp, rows: o, p: p, n0: n0, nb: nb, bias: b, into: y)
                n0 += nb
            }
            return
        }
        ch.forEachLineChunk(g, batch: batch) { n, first, count in
            let cols = count * g.ow, yc = y + n * o * p + first * g.ow
            g.im2col(x + n * xs, col, ld: cols, first: first, count: count)
            if bias { ConvKernels.fillRows(yc, rows: o, count: cols, ld: p, bias: b) }
            BLAS.sgemm(m: o, n: cols, k: k, a: w, lda: k, b: col, ldb: cols, beta: beta, c: yc, ldc: p)
        }
    }

    public var writesFreshInputGradients: Bool { true }

    // backward: dW += dY·colᵀ, db += Σ dY, dX += col2im(Wᵀ·dY)  (dX = … where marked fresh)
    public func backward(_ c: LayerContext, mode: Mode) {
        let xT = c.inputs[0], batch = xT.shape.batch
        let g = PatchGeometry(image: xT.shape, outSpatial: c.output.shape, settings: settings)
        let x = xT.data, dy = c.dOutput.data, w = c.params[0].data, dw = c.grads[0].data
        let dx = c.dInputs[0]?.data
        let o = outChannels, k = g.rows, p = g.positions, xs = g.imageCount
        let fresh = c.isFresh(0)
        if let plan = tapPlan(g, batch: batch) { return tapBackward(c, plan, fresh: fresh) }
        let ch = ColumnChunks(g, batch: batch)
        if ch.group > 1 && !usesDirectGEMM(g) {
            return groupedBackward(c, g, ch, fresh: fresh)
        }
        if bias { ConvKernels.biasGradient(dy, batch: batch, rows: o, p: p, into: c.grads[1].data) }

        if usesDirectGEMM(g) {
            for n in 0..<batch {
                let dyn = dy + n * o * p, xn = x + n * xs
                BLAS.sgemm(transB: true, m: o, n: k, k: p, a: dyn, lda: p, b: xn, ldb: p, beta: 1, c: dw, ldc: k)
                if let dx {
                    BLAS.sgemm(transA: true, m: k, n: p, k: o, a: w, lda: k, b: dyn, ldb: p, beta: fresh ? 0 : 1, c: dx + n * xs, ldc: p)
                }
            }
            return
        }
        // col2im adds: a fresh dX starts from zero.
        if fresh, let dx { dx.update(repeating: 0, count: batch * xs) }
        let col = c.workspace
        ch.forEachLineChunk(g, batch: batch) { n, first, count in
            let cols = count * g.ow, dyc = dy + n * o * p + first * g.ow
            g.im2col(x + n * xs, col, ld: cols, first: first, count: count)
            BLAS.sgemm(transB: true, m: o, n: k, k: cols, a: dyc, lda: p, b: col, ldb: cols, beta: 1, c: dw, ldc: k)
            if let dx {
                BLAS.sgemm(transA: true, m: k, n: cols, k: o, a: w, lda: k, b: dyc, ldb: p, beta: 0, c: col, ldc: cols)
                g.col2im(col, dx + n * xs, ld: cols, first: first, count: count)
            }
        }
    }

    // grouped backward, per group of nb samples (see ConvGrouped.swift):
    //   dYg = gather(dY) [O×nb·P];  db += row sums of dYg;  dW += dYg·colᵀ;
    //   dcol = Wᵀ·dYg [K×nb·P];  dX += col2im(dcol)  (a pointwise kernel writes a fresh dX directly)
    private func groupedBackward(_ c: LayerContext, _ g: PatchGeometry, _ ch: ColumnChunks, fresh: Bool) {
        let batch = c.inputs[0].shape.batch
        let x = c.inputs[0].data, dy = c.dOutput.data, w = c.params[0].data, dw = c.grads[0].data
        let dx = c.dInputs[0]?.data
        let o = outChannels, k = g.rows, p = g.positions
        let col = c.workspace, tmp = col + k * ch.columns
        let table = UnsafeMutableRawPointer(tmp + o * ch.columns).assumingMemoryBound(to: Int32.self)
        g.fillTapTable(table)
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
