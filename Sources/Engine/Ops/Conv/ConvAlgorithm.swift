/// How a `Conv` computes on one geometry and batch. `Conv.algorithm(_:batch:)` chooses it once,
/// when the graph is planned; every forward and backward of the layer then runs it. Each case
/// carries what its passes need (chunking, workspace layout).
enum ConvAlgorithm: LayerAlgorithm {
    /// Winograd F(2×2, 3×3) in all three passes (Winograd.swift).
    case winograd(Winograd)
    /// Y[n] = W·X[n]: a 1×1 kernel multiplies the input itself.
    case pointwise(PatchGeometry)
    /// Implicit GEMM over tap rows (ImplicitGEMM.swift).
    case implicitGEMM(Conv.TapPlan)
    /// One GEMM per kernel tap over the positions it reads inside the input, samples side by
    /// side (SmallMapTaps.swift).
    case taps(SmallMapTaps)
    /// Table-driven im2col of samples side by side (ConvGrouped.swift).
    case im2col(PatchGeometry, ColumnChunks)
    /// Patch-major im2col over chunks of output positions (PatchMajor.swift).
    case patches(Conv.PatchPlan)

    var description: String {
        switch self {
        case .winograd: return "winograd"
        case .pointwise: return "pointwise"
        case .implicitGEMM: return "implicit-gemm"
        case .taps: return "taps"
        case .im2col: return "im2col"
        case .patches: return "patches"
        }
    }

    /// Floats kept from forward to backward: the per-tap form keeps its tap-major weight (T×O×C).
    var savedCount: Int {
        if case .taps(let plan) = self { return plan.g.taps * plan.outChannels * plan.inChannels }
        return 0
    }
}

extension Conv {
    /// The algorithm for a geometry and batch: the first of these that applies.
    /// - winograd: 2D 3×3 or 3D 3×3×3, stride 1, dilation 1, padding 1 ("same"), input and
    ///   output channels in whole lanes of 8 with one side ≥ 16, not a small map. 2.25× fewer
    ///   multiplications; the transforms run eight channels at a time, so partial lanes (the 10
    ///   bands of a first layer) are slow, and at 8 → 8 the transforms and OpenBLAS's narrow
    ///   GEMMs cost more than the multiplications saved.
    /// - pointwise: 1×1, stride 1, no padding, and enough positions per sample for a GEMM of
    ///   its own (`PatchGeometry.multipliesInPlace`): the input already is its columns.
    /// - implicit-gemm: fewer than 64 input channels, unit stride and W dilation, and at most
    ///   1/8 of a padded tap row padding. Tap rows copy kw times less than an im2col and gain
    ///   most where patches would be many short copies (few channels); they pay for the padding
    ///   columns of each line.
    /// - taps: a small map (fewer than 64 positions, at least 64 input channels, samples grouped
    ///   side by side as GEMM columns, so a batch above 1) with stride 1, 2 to 64 taps and at
    ///   least 1/8 of an im2col padding (`SmallMapTaps.applies`): each tap's GEMM skips the
    ///   padding an im2col would multiply (a 3×3 kernel on a 2×2 map reads 4 of its 9 taps).
    /// - im2col: the other small maps, through a tap (or line) table.
    /// - patches: the rest; patch-major columns copy long runs when channels are many and waste
    ///   nothing on small images.
    /// Small maps go before Winograd: one 4×4 tile of mostly padding per 2×2 output loses to
    /// the grouped forms. The measurements behind these thresholds are in docs/engine.md.
    func algorithm(_ g: PatchGeometry, batch: Int) -> ConvAlgorithm {
        let smallMap = g.channels >= 64 && g.positions < 64 && ColumnChunks(g, batch: batch).group > 1
        if !smallMap, g.channels % 8 == 0, outChannels % 8 == 0, max(g.channels, outChannels) >= 16,
           let f = Winograd(g, outChannels: outChannels) {
            return .winograd(f)
        }
        if g.multipliesInPlace { return .pointwise(g) }
        if g.channels < 64, let t = TapRows(g), 8 * (t.wp - t.ow) <= t.wp {
            return .implicitGEMM(TapPlan(t, batch: batch, outChannels: outChannels))
        }
        if smallMap {
            if SmallMapTaps.applies(g) { return .taps(SmallMapTaps(g, outChannels: outChannels, batch: batch)) }
            return .im2col(g, ColumnChunks(g, batch: batch))
        }
        return .patches(PatchPlan(g, batch: batch, outChannels: outChannels))
    }

    /// Floats of shared workspace `a` needs for `batch` samples.
    func workspaceCount(_ a: ConvAlgorithm, batch: Int) -> Int {
        switch a {
        case .winograd(let f): return max(f.workspace(batch: batch), f.transposed.workspace(batch: batch))
        case .pointwise: return 0
        case .implicitGEMM(let plan): return plan.workspace
        case .taps(let plan): return plan.workspace
        // columns, product, tap or line table (Int32)
        case .im2col(let g, let ch): return g.rows * ch.columns + outChannels * ch.columns + g.groupTableCount
        case .patches(let plan): return plan.workspace
        }
    }
}
