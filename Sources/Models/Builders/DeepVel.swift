import Engine

/// DeepVel (Asensio Ramos, Requerey & Vitas 2017; seed 001): a fully convolutional residual
/// network for dense regression, N×C×H×W → N×K×(s·H)×(s·W):
///
///   conv 3×3 `filters` → ReLU ──────────────────────────────┐ (long skip)
///   → `blocks` × [conv → BN → ReLU → conv → BN, + block input]   │
///   → conv → BN → + ───────────────────────────────────────────┘
///   → (scale s > 1) upsampling by s → ReLU
///   → 1×1 conv to `outputs` (linear)
///
/// With the defaults (21 blocks of 64 filters: the published network, whose model JSON has 45
/// convolutions: the first, 2 × 21 in the blocks, the one before the long skip and the head)
/// and 2 bands, 6 outputs it has DeepVel's 1,595,014 trainable parameters.
///
/// Super-resolution (`scale` 2, 3, 4, …; seed 000's 10 m data → finer maps): the features are
/// upsampled after the long skip, just before the head, so the residual trunk runs at the
/// input resolution. "transpose": a transposed conv with kernel and stride s (the same map as
/// ESPCN's sub-pixel convolution: a 1×1 conv to filters·s² followed by a pixel shuffle,
/// without needing a pixel-shuffle op); "nearest"/"bilinear": resizing then a 3×3 conv.
/// Regression (MSE) by default; `"task": "classification"` makes the head class scores.
public enum DeepVel: ModelBuilder {
    public static let arch = "deepvel"
    public static let summary = "DeepVel (Asensio Ramos 2017): fully convolutional residual network for dense regression and super-resolution"

    public static let parameters: [Parameter] = [
        .bands,
        Parameter("outputs", .int, .value(.int(1)), "output channels: regression targets (or classes with task classification)"),
        Parameter("filters", .int, .value(.int(64)), "filters of every convolution"),
        Parameter("blocks", .int, .value(.int(21)), "residual blocks (DeepVel's published network has 21)"),
        Parameter("scale", .int, .value(.int(1)), "output grid this many times finer than the input (super-resolution); 1 = same grid"),
        Parameter("upsampling", .string(choices: ["transpose", "nearest", "bilinear"]), .value(.string("transpose")),
                  "scale > 1: transposed conv (kernel = stride = scale, a sub-pixel convolution), or nearest/bilinear resizing then a 3×3 conv"),
        Parameter("size", .int, .value(.int(64)), "input height and width when no input shape is given"),
        .task("regression"),
    ]

    public static func validate(_ p: Params) throws {
        for k in ["bands", "outputs", "filters", "size"] where p.int(k) < 1 {
            throw p.error(k, "must be at least 1, got \(p.int(k))")
        }
        guard p.int("blocks") >= 0 else { throw p.error("blocks", "must be ≥ 0, got \(p.int("blocks"))") }
        guard (1...8).contains(p.int("scale")) else { throw p.error("scale", "must be in 1...8, got \(p.int("scale"))") }
    }

    public static func defaultInput(_ p: Params) -> [Int] { [p.int("bands"), p.int("size"), p.int("size")] }

    public static func build(_ p: Params, _ net: Net, input: Value) throws -> Value {
        let s = net.shape(input)
        guard s.rank == 4 else { throw p.error("size", "deepvel takes images N×C×H×W, got input \(s)") }
        let f = p.int("filters"), scale = p.int("scale")
        let first = try net.add("conv_in.relu", Activation.relu, net.conv("conv_in", input, f))
        var x = first
        for b in 0..<p.int("blocks") {
            let i = b + 1
            var h = try net.convBlock("res\(i)", x, f, index: 1)
            h = try net.convBlock("res\(i)", h, f, index: 2, activation: nil)
            x = try net.add("res\(i).add", Add(), h, x)
        }
        x = try net.convBlock("trunk", x, f, index: 1, activation: nil)
        x = try net.add("trunk.add", Add(), x, first)
        if scale > 1 {
            switch p.string("upsampling") {
            case "transpose":
                x = try net.add("up.conv", ConvTranspose(outChannels: f, kernel: scale, stride: scale), x)
            case let mode:
                x = try net.add("up.resize", Upsample(scale: scale, mode == "nearest" ? .nearest : .linear), x)
                x = try net.conv("up.conv", x, f)
            }
            x = try net.add("up.relu", Activation.relu, x)
        }
        return try net.conv("head", x, p.int("outputs"), kernel: 1)
    }
}
