import Engine

/// Alquimodelia's pixel time-series model (Tesselo; seed 000 "Pixel based time series
/// classifier"): two 1D-convolution branches see the series N×B×T at two time scales.
///
///   input → BN ─┬─ short: [conv k `kernel` → ReLU → BN → dropout `conv_dropout` → conv k → ReLU → BN → max-pool 2] → flatten ─┐
///               └─ long:  the same with kernel `long_kernel` (≈ T/2)                                                         ├→ concat
///   → dropout `dropout` → dense `dense` → ReLU → BN → dense classes
///
/// As Alquimodelia: ReLU is the convolutions' (and the hidden dense layer's) activation,
/// applied before the batch norm; the output is linear (logits for classification — the loss
/// applies the softmax Alquimodelia puts in the model — or regression values).
///
/// Padding: "same" (default) keeps all T dates in both branches, so any series of ≥ 2 dates
/// works; the convolutions' kernels must then be odd. "valid" is Alquimodelia's exact layer
/// stack (the series shrinks by k−1 per convolution; the long branch pools by min(2, what is
/// left)).
///
/// `long_kernel` when not given: "same": T/2 rounded up to odd (24 dates → 13); "valid":
/// ⌈T/2⌉, Alquimodelia's rule and the longest kernel that leaves a date after two valid
/// convolutions (24 → 12). (Alquimodelia applies its rule to the smallest input dimension,
/// bands or dates; we apply it to the dates, which is what "≈ T/2" means.)
public enum PixelTwoBranch: ModelBuilder {
    public static let arch = "pixel_twobranch"
    public static let summary = "Alquimodelia's pixel time-series model: two 1D-conv branches (short and ≈ T/2 kernels), dense head"

    public static let parameters: [Parameter] = [
        .bands,
        Parameter("dates", .int, .value(.int(24)), "dates T of the input series N×bands×T (the dense layer depends on it)"),
        .classes,
        Parameter("filters", .int, .value(.int(64)), "filters of every 1D convolution"),
        Parameter("kernel", .int, .value(.int(3)), "kernel of the short branch"),
        Parameter("long_kernel", .int, .auto("same: T/2 rounded up to odd; valid: ⌈T/2⌉ as Alquimodelia"), "kernel of the long branch"),
        Parameter("padding", .string(choices: ["same", "valid"]), .value(.string("same")),
                  "same: convolutions keep the dates (odd kernels); valid: Alquimodelia's unpadded convolutions"),
        Parameter("conv_dropout", .double, .value(.double(0.25)), "dropout between the two convolutions of a branch"),
        Parameter("dropout", .double, .value(.double(0.5)), "dropout on the concatenated features"),
        Parameter("dense", .int, .value(.int(100)), "units of the hidden dense layer"),
        .task("classification"),
    ]

    public static func validate(_ p: Params) throws {
        for k in ["bands", "dates", "classes", "filters", "kernel", "dense"] where p.int(k) < 1 {
            throw p.error(k, "must be at least 1, got \(p.int(k))")
        }
        if let k = p.intIfSet("long_kernel"), k < 1 { throw p.error("long_kernel", "must be at least 1, got \(k)") }
        for k in ["conv_dropout", "dropout"] where !(0..<1).contains(p.double(k)) {
            throw p.error(k, "must be in [0, 1), got \(p.double(k))")
        }
        let t = p.int("dates"), k = p.int("kernel"), lk = longKernel(p)
        if p.string("padding") == "same" {
            guard t >= 2 else { throw p.error("dates", "must be at least 2 (the short branch pools by 2), got \(t)") }
            guard k % 2 == 1 else { throw p.error("kernel", "must be odd with padding \"same\", got \(k)") }
            guard lk % 2 == 1 else { throw p.error("long_kernel", "must be odd with padding \"same\", got \(lk)") }
        } else {
            guard t - 2 * (k - 1) >= 2 else {
                throw p.error("kernel", "\(k) leaves \(t - 2 * (k - 1)) of \(t) dates after two valid convolutions; the short branch pools by 2 and needs ≥ 2 (a smaller kernel, more dates, or padding \"same\")")
            }
            guard t - 2 * (lk - 1) >= 1 else {
                throw p.error("long_kernel", "\(lk) leaves no date of \(t) after two valid convolutions (at most \((t + 1) / 2), or padding \"same\")")
            }
        }
    }

    public static func defaultInput(_ p: Params) -> [Int] { [p.int("bands"), p.int("dates")] }

    static func longKernel(_ p: Params) -> Int {
        if let k = p.intIfSet("long_kernel") { return k }
        let t = p.int("dates")
        return p.string("padding") == "same" ? (t / 2) | 1 : (t + 1) / 2
    }

    public static func build(_ p: Params, _ net: Net, input: Value) throws -> Value {
        try PixelSeries.check(p, net.shape(input))
        let f = p.int("filters"), same = p.string("padding") == "same"
        let normed = try net.add("input_bn", BatchNorm(), input)

        func branch(_ name: String, kernel k: Int) throws -> Value {
            var x = normed
            for i in 1...2 {
                x = try net.conv("\(name).conv\(i)", x, f, kernel: k, padding: same ? (k - 1) / 2 : 0)
                x = try net.add("\(name).relu\(i)", Activation.relu, x)
                x = try net.add("\(name).bn\(i)", BatchNorm(), x)
                if i == 1 && p.double("conv_dropout") > 0 {
                    x = try net.add("\(name).drop\(i)", Dropout(Float(p.double("conv_dropout"))), x)
                }
            }
            let pool = min(2, net.shape(x)[2])
            if pool > 1 { x = try net.add("\(name).pool", MaxPool(kernel: pool), x) }
            return try net.add("\(name).flatten", Flatten(), x)
        }
        let short = try branch("short", kernel: p.int("kernel"))
        let long = try branch("long", kernel: longKernel(p))
        var x = try net.add("concat", Concat(), short, long)
        if p.double("dropout") > 0 { x = try net.add("drop", Dropout(Float(p.double("dropout"))), x) }
        x = try net.add("fc.linear", Dense(p.int("dense")), x)
        x = try net.add("fc.relu", Activation.relu, x)
        x = try net.add("fc.bn", BatchNorm(), x)
        return try net.add("head", Dense(p.int("classes"), weightInit: .glorot), x)
    }
}
