import Engine

/// Fully convolutional network (Long, Shelhamer & Darrell 2015; seed 002's table), 2D, FCN-VGG16
/// layout with a configurable encoder:
///   encoder stage i (1…depth): VGG convs × [conv 3, (BN), ReLU], filters·2^min(i−1, 3)
///     channels, then max-pool 2 ("pool{i}"); depth 5 is VGG-16 (output stride 32)
///   "fc6": conv `fc_kernel` with `fc` channels, (BN), ReLU, dropout; "fc7": the same as 1×1
///   "score_fr": 1×1 conv to the classes
///   32s: "upscore" — transposed conv, factor 2^depth (32), back to the input size
///   16s: "upscore2" (×2) + "score_pool4" (1×1 on pool{depth−1}) → "fuse_pool4" → "upscore" (×16)
///   8s:  16s's fusion, then "upscore_pool4" (×2) + "score_pool3" (1×1 on pool{depth−2}) →
///        "fuse_pool3" → "upscore" (×8)
/// (pool names are those of depth 5; another depth numbers them by the pool they read.)
/// Sizes are exact, not cropped: convs use "same" padding and every learned upsampling by s is a
/// transposed conv with kernel 2s, stride s, padding s/2 (no bias, as the paper's), so the output
/// is N×classes×H×W for any H, W divisible by 2^depth. The paper pads the input by 100 and crops
/// instead, and initialises the upsampling to bilinear; here it is learned from a random start.
/// Batch norm (default on, for training from scratch) is not in the paper; without it and with
/// 3 bands, 21 classes, FCN-8s has the paper's layer sizes: 134,489,759 parameters.
public enum FCN: ModelBuilder {
    public static let arch = "fcn"
    public static let summary = "Fully convolutional network (FCN-32s/16s/8s) for segmentation: VGG-like encoder, learned upsampling with skip fusion"

    public static let parameters: [Parameter] = [
        .bands, .classes,
        Parameter("filters", .int, .value(.int(64)), "filters of the first stage; doubled at each stage down to at most 8×"),
        Parameter("depth", .int, .value(.int(5)), "encoder stages, each halving the size (5 = VGG-16, output stride 32)"),
        Parameter("variant", .string(choices: ["32s", "16s", "8s"]), .value(.string("8s")),
                  "upsampling: 32s in one step; 16s fuses pool4's scores; 8s also pool3's"),
        Parameter("fc", .int, .auto("8 × the last stage's filters: 4096 for VGG-16"), "channels of fc6 and fc7"),
        Parameter("fc_kernel", .int, .value(.int(7)), "kernel of fc6 (7 in VGG-16; odd)"),
        Parameter("size", .int, .value(.int(256)), "input height and width when no input shape is given"),
        .batchNorm,
        Parameter("dropout", .double, .value(.double(0.5)), "dropout rate after fc6 and fc7 (0 = none)"),
        .task("classification"),
    ]

    public static func validate(_ p: Params) throws {
        for k in ["bands", "classes", "filters", "size", "fc_kernel"] where p.int(k) < 1 {
            throw p.error(k, "must be at least 1, got \(p.int(k))")
        }
        if let fc = p.intIfSet("fc"), fc < 1 { throw p.error("fc", "must be at least 1, got \(fc)") }
        guard p.int("fc_kernel") % 2 == 1 else { throw p.error("fc_kernel", "must be odd, got \(p.int("fc_kernel"))") }
        let depth = p.int("depth")
        guard (1...8).contains(depth) else { throw p.error("depth", "must be in 1...8, got \(depth)") }
        let skips = skipCount(p)
        guard depth > skips else {
            throw p.error("variant", "\(p.string("variant")) fuses the scores of pool\(depth - skips)…: it needs depth ≥ \(skips + 1), got \(depth)")
        }
        guard (0..<1).contains(p.double("dropout")) else { throw p.error("dropout", "must be in [0, 1), got \(p.double("dropout"))") }
    }

    /// Pools whose scores are fused: 0 (32s), 1 (16s), 2 (8s).
    static func skipCount(_ p: Params) -> Int { ["32s": 0, "16s": 1, "8s": 2][p.string("variant")]! }

    public static func defaultInput(_ p: Params) -> [Int] { [p.int("bands"), p.int("size"), p.int("size")] }

    public static func build(_ p: Params, _ net: Net, input: Value) throws -> Value {
        let depth = p.int("depth"), f = p.int("filters"), bn = p.bool("batch_norm"), drop = p.double("dropout")
        let k = p.int("classes")
        try VGG.checkInput(net.shape(input), halvings: depth, key: "depth", p)
        let convs = VGG.convs(depth: depth)
        var x = input
        var pools: [Value] = []
        for i in 1...depth {
            for j in 1...convs[i - 1] {
                x = try net.convBlock("enc\(i)", x, VGG.filters(f, stage: i), index: j, batchNorm: bn)
            }
            x = try net.add("pool\(i)", MaxPool(kernel: 2), x)
            pools.append(x)
        }
        let fc = p.intIfSet("fc") ?? 8 * VGG.filters(f, stage: depth)
        for (name, kernel) in [("fc6", p.int("fc_kernel")), ("fc7", 1)] {
            x = try net.conv("\(name).conv", x, fc, kernel: kernel)
            if bn { x = try net.add("\(name).bn", BatchNorm(), x) }
            x = try net.add("\(name).relu", Activation.relu, x)
            if drop > 0 { x = try net.add("\(name).drop", Dropout(Float(drop)), x) }
        }
        x = try net.conv("score_fr", x, k, kernel: 1)
        // Learned ×s upsampling with an exact output size: kernel 2s, stride s, padding s/2.
        func up(_ name: String, _ x: Value, _ s: Int) throws -> Value {
            try net.add(name, ConvTranspose(outChannels: k, kernel: 2 * s, stride: s, padding: s / 2, bias: false), x)
        }
        let skips = skipCount(p)
        for s in 0..<skips {
            let pool = depth - 1 - s
            x = try up(s == 0 ? "upscore2" : "upscore_pool\(pool + 1)", x, 2)
            let score = try net.conv("score_pool\(pool)", pools[pool - 1], k, kernel: 1)
            x = try net.add("fuse_pool\(pool)", Add(), x, score)
        }
        return try up("upscore", x, 1 << (depth - skips))
    }
}
