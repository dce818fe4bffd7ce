/// N-d transposed convolution (PyTorch's ConvTranspose1d/2d/3d). Shapes:
///   input   N×C×L  |  N×C×H×W  |  N×C×D×H×W          (1D, 2D, 3D by input rank)
///   weight  C×O×k…  (PyTorch layout)
///   bias    O
///   output  N×O×o…,  o = (i − 1)·s − 2p + d·(k − 1) + output_padding + 1
/// It is the adjoint of `Conv` with the roles of input and output swapped: per sample,
/// Y = col2im(Wᵀ·X) + b with W seen as C×K (K = O·∏k), and the columns live on the input's
/// positions. Backward runs im2col on dY: dX += W·col(dY), dW += X·col(dY)ᵀ.
public struct ConvTranspose: Layer {
    public let outChannels: Int
    /// Spatial dims (1, 2, 3) if fixed; nil accepts any and takes them from the input rank.
    public let dims: Int?
    /// If set, the input must have this many channels.
    public let inChannels: Int?
    public let settings: ConvSettings
    /// Extra size added to one side of each output dim; each value below max(stride, dilation).
    public let outputPadding: [Int]
    public let bias: Bool

    /// Scalar settings applied to every spatial dim.
    public init(outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, outputPadding: Int = 0,
                dilation: Int = 1, bias: Bool = true, dims: Int? = nil, inChannels: Int? = nil) {
        self.outChannels = outChannels
        self.dims = dims
        self.inChannels = inChannels
        settings = ConvSettings(kernel: [kernel], stride: [stride], padding: [padding], dilation: [dilation])
        self.outputPadding = [outputPadding]
        self.bias = bias
    }

    /// Per-dim lists (outermost first); their length fixes `dims`. Omitted lists mean
    /// stride 1, padding 0, output padding 0, dilation 1.
    public init(outChannels: Int, kernel: [Int], stride: [Int]? = nil, padding: [Int]? = nil,
                outputPadding: [Int]? = nil, dilation: [Int]? = nil, bias: Bool = true, inChannels: Int? = nil) {
        self.outChannels = outChannels
        dims = kernel.count
        self.inChannels = inChannels
        settings = ConvSettings(kernel: kernel, stride: stride ?? [1], padding: padding ?? [0], dilation: dilation ?? [1])
        self.outputPadding = outputPadding ?? [0]
        self.bias = bias
    }

    public var kind: String { dims.map { "conv_transpose\($0)d" } ?? "conv_transpose" }
    /// The kind for an input shape ("conv_transpose2d" for N×C×H×W).
    public func kind(for inputs: [Shape]) -> String { "conv_transpose\(inputs[0].rank - 2)d" }

    public func outputShape(_ inputs: [Shape], name: String) throws -> Shape {
        let sr = try settings.checkInput(inputs, dims: dims, outChannels: outChannels, inChannels: inChannels, layer: name)
        let x = inputs[0]
        guard outputPadding.count == 1 || outputPadding.count == sr else {
            throw EngineError.parameter(layer: name, message: "outputPadding \(outputPadding) has \(outputPadding.count) values for \(sr) spatial dim(s)")
        }
        let ks = settings.list(settings.kernel, spatialRank: sr), ss = settings.list(settings.stride, spatialRank: sr)
        let ps = settings.list(settings.padding, spatialRank: sr), ds = settings.list(settings.dilation, spatialRank: sr)
        let ops = settings.list(outputPadding, spatialRank: sr)
        var out = [x.batch, outChannels]
        for j in 0..<sr {
            guard ops[j] >= 0, ops[j] < max(ss[j], ds[j]) else {
                throw EngineError.parameter(layer: name, message: "outputPadding \(outputPadding) must be at least 0 and below max(stride, dilation) in every dim (stride \(ss), dilation \(ds))")
            }
            let o = (x.dims[2 + j] - 1) * ss[j] - 2 * ps[j] + ds[j] * (ks[j] - 1) + ops[j] + 1
            guard o >= 1 else {
                throw EngineError.shape(layer: name,
                                        expected: "an input whose output size is positive in dim \(j) (kernel \(ks), stride \(ss), padding \(ps))",
                                        got: "\(x) (output size \(o))")
            }
            out.append(o)
        }
        return Shape(out)
    }

    public func parameters(_ inputs: [Shape]) -> [TensorSpec] {
        let x = inputs[0], sr = x.rank - 2
        let k = settings.list(settings.kernel, spatialRank: sr)
        // PyTorch's fan-in for this weight layout: dim 1 × kernel volume.
        let fanIn = outChannels * k.reduce(1, *)
        var specs = [TensorSpec("weight", Shape([x.channels, outChannels] + k), .heUniform(fanIn: fanIn))]
        if bias { specs.append(TensorSpec("bias", Shape(outChannels), .zeros)) }
        return specs
    }

    /// Chooses the algorithm for these shapes: pointwise where the kernel multiplies the input in
    /// place (`PatchGeometry.multipliesInPlace`), else col2im; and sizes its workspace (columns,
    /// and the gathered input when samples go side by side).
    public func plan(_ inputs: [Shape], output: Shape) -> LayerPlan {
        let g = PatchGeometry(image: output, outSpatial: inputs[0], settings: settings)
        if g.multipliesInPlace { return LayerPlan(algorithm: ConvTransposeAlgorithm.pointwise(g)) }
        let ch = ColumnChunks(g, batch: inputs[0].batch)
        return LayerPlan(algorithm: ConvTransposeAlgorithm.col2im(g, ch),
                         workspaceCount: g.rows * ch.columns + (ch.group > 1 ? inputs[0].channels * ch.columns : 0))
    }

    /// GEMM flops: 2·N·C·K·P each for Y, dW and dX (K = O·∏k, P = input positions).
    public func flops(_ inputs: [Shape], output: Shape) -> LayerFlops {
        let g = PatchGeometry(image: output, outSpatial: inputs[0], settings: settings)
        let f = 2 * Double(inputs[0].batch) * Double(inputs[0].channels) * Double(g.rows) * Double(g.positions)
        return LayerFlops(forward: f, backwardParams: f, backwardInputs: f)
    }

    // forward: Y[n] = col2im(Wᵀ · X[n]) + b
    public func forward(_ c: LayerContext, mode: Mode) {
        let xT = c.inputs[0], batch = xT.shape.batch, cin = xT.shape.channels
        let a = c.planned(ConvTransposeAlgorithm.self), g = a.geometry
        let x = xT.data, y = c.output.data, w = c.params[0].data
        let b: UnsafePointer<Float>? = bias ? UnsafePointer(c.params[1].data) : nil
        let k = g.rows, p = g.positions, ys = g.imageCount, ysp = ys / outChannels
        // Tiling windows (2×2/2) write every output once, with the bias; col2im accumulates:
        // start from the bias (or zero).
        let tiles = g.isTiling
        if !tiles { for n in 0..<batch { ConvKernels.fillRows(y + n * ys, rows: outChannels, count: ysp, ld: ysp, bias: b) } }

        guard let ch = a.chunks else {
            for n in 0..<batch {
                if tiles { ConvKernels.fillRows(y + n * ys, rows: outChannels, count: ysp, ld: ysp, bias: b) }
                BLAS.sgemm(transA: true, m: outChannels, n: p, k: cin, a: w, lda: outChannels,
                           b: x + n * cin * p, ldb: p, beta: 1, c: y + n * ys, ldc: p)
            }
            return
        }
        let col = c.workspace
        if ch.group > 1 {
            let tmp = col + k * ch.columns
            forEachRun(total: batch, size: ch.group) { n0, nb in
                let cols = nb * p
                ConvKernels.gather(x, rows: cin, p: p, n0: n0, nb: nb, into: tmp)
                BLAS.sgemm(transA: true, m: k, n: cols, k: cin, a: w, lda: k, b: tmp, ldb: cols, beta: 0, c: col, ldc: cols)
                for s in 0..<nb {
                    if tiles {
                        g.scatterTiles(col + s * p, y + (n0 + s) * ys, ld: cols, first: 0, count: g.lines, bias: b)
                    } else {
                        g.col2im(col + s * p, y + (n0 + s) * ys, ld: cols, first: 0, count: g.lines)
                    }
                }
            }
            return
        }
        ch.forEachLineChunk(g, batch: batch) { n, first, count in
            let cols = count * g.ow
            BLAS.sgemm(transA: true, m: k, n: cols, k: cin, a: w, lda: k, b: x + n * cin * p + first * g.ow, ldb: p,
                       beta: 0, c: col, ldc: cols)
            if tiles {
                g.scatterTiles(col, y + n * ys, ld: cols, first: first, count: count, bias: b)
            } else {
                g.col2im(col, y + n * ys, ld: cols, first: first, count: count)
            }
        }
    }

    public var writesFreshInputGradients: Bool { true }

    // backward: db += Σ dY, dW += X·col(dY)ᵀ, dX += W·col(dY)  (dX = … where marked fresh)
    public func backward(_ c: LayerContext, mode: Mode) {
        let xT = c.inputs[0], batch = xT.shape.batch, cin = xT.shape.channels
        let a = c.planned(ConvTransposeAlgorithm.self), g = a.geometry
        let x = xT.data, dy = c.dOutput.data, w = c.params[0].data, dw = c.grads[0].data
        let dx = c.dInputs[0]?.data
        let k = g.rows, p = g.positions, ys = g.imageCount, xs = cin * p
        if bias { ConvKernels.biasGradient(dy, batch: batch, rows: outChannels, p: ys / outChannels, into: c.grads[1].data) }
        let beta: Float = c.isFresh(0) ? 0 : 1

        guard let ch = a.chunks else {
            for n in 0..<batch {
                let dyn = dy + n * ys, xn = x + n * xs
                BLAS.sgemm(transB: true, m: cin, n: outChannels, k: p, a: xn, lda: p, b: dyn, ldb: p, beta: 1, c: dw, ldc: outChannels)
                if let dx {
                    BLAS.sgemm(m: cin, n: p, k: outChannels, a: w, lda: outChannels, b: dyn, ldb: p, beta: beta, c: dx + n * xs, ldc: p)
                }
            }
            return
        }
        let col = c.workspace
        if ch.group > 1 {
            let tmp = col + k * ch.columns
            forEachRun(total: batch, size: ch.group) { n0, nb in
                let cols = nb * p
                for s in 0..<nb {
                    if g.isTiling {
                        g.gatherTiles(dy + (n0 + s) * ys, col + s * p, ld: cols, first: 0, count: g.lines)
                    } else {
                        g.im2col(dy + (n0 + s) * ys, col + s * p, ld: cols, first: 0, count: g.lines)
                    }
                }
                ConvKernels.gather(x, rows: cin, p: p, n0: n0, nb: nb, into: tmp)
                BLAS.sgemm(transB: true, m: cin, n: k, k: cols, a: tmp, lda: cols, b: col, ldb: cols, beta: 1, c: dw, ldc: k)
                if let dx {
                    // The gathered input is spent: reuse its space for W·col.
                    BLAS.sgemm(m: cin, n: cols, k: k, a: w, lda: k, b: col, ldb: cols, beta: 0, c: tmp, ldc: cols)
                    if beta == 0 {
                        ConvKernels.scatter(tmp, rows: cin, p: p, n0: n0, nb: nb, bias: nil, into: dx)
                    } else {
                        ConvKernels.scatterAdd(tmp, rows: cin, p: p, n0: n0, nb: nb, into: dx)
                    }
                }
            }
            return
        }
        ch.forEachLineChunk(g, batch: batch) { n, first, count in
            let cols = count * g.ow, off = n * xs + first * g.ow
            if g.isTiling {
                g.gatherTiles(dy + n * ys, col, ld: cols, first: first, count: count)
            } else {
                g.im2col(dy + n * ys, col, ld: cols, first: first, count: count)
            }
            BLAS.sgemm(transB: true, m: cin, n: k, k: cols, a: x + off, lda: p, b: col, ldb: cols, beta: 1, c: dw, ldc: k)
            if let dx {
                // Chunks cover disjoint lines, so a fresh dX is written exactly once.
                BLAS.sgemm(m: cin, n: cols, k: k, a: w, lda: k, b: col, ldb: cols, beta: beta, c: dx + off, ldc: p)
            }
        }
    }
}

/// How a `ConvTranspose` computes on one geometry and batch, chosen once when the graph is
/// planned (`ConvTranspose.plan`).
enum ConvTransposeAlgorithm: LayerAlgorithm {
    /// Y[n] = Wᵀ·X[n] + b: a 1×1 kernel multiplies the input itself.
    case pointwise(PatchGeometry)
    /// Y = col2im(Wᵀ·X) + b over column chunks (lines of one sample, or whole samples side by
    /// side); tiling windows are written once, without col2im.
    case col2im(PatchGeometry, ColumnChunks)

    var description: String {
        switch self {
        case .pointwise: return "pointwise"
        case .col2im: return "col2im"
        }
    }

    var geometry: PatchGeometry {
        switch self {
        case .pointwise(let g), .col2im(let g, _): return g
        }
    }

    /// The column chunks; nil for pointwise (no columns).
    var chunks: ColumnChunks? {
        if case .col2im(_, let ch) = self { return ch }
        return nil
    }
}
