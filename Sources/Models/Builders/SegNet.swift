import Engine

/// SegNet (Badrinarayanan et al. 2015; seed 001), 2D: a VGG-16-like encoder whose max-pooling
/// positions the decoder reuses to upsample.
///   encoder stage i (1…depth): convs[i] × [conv 3, BN, ReLU] with filters·2^min(i−1, 3)
///     channels (64, 128, 256, 512, 512 for VGG-16), then max-pool 2 ("pool{i}")
///   decoder stage i (depth…1): max-unpool ("unpool{i}": each value goes back to the position
///     pool{i} took it from; the engine's MaxUnpool recomputes that argmax from pool{i}'s input),
///     then convs[i] × [conv 3, BN, ReLU], the last one narrowing to stage i−1's channels — as
///     the paper's conv5_3_D … conv1_2_D
///   the last conv of decoder stage 1 is the classifier ("head", kernel `head_kernel`, no BN or
///     ReLU), as the paper's conv1_1_D.
/// With dropout > 0 (Bayesian SegNet style), dropout follows every encoder pool ("drop{i}")
/// and every decoder stage but the last ("dec{i}.drop").
/// VGG-16 SegNet (3 bands, 11 classes, BN, biased convs): 29,449,355 parameters, as the
/// PyTorch reference of the same structure.
public enum SegNet: ModelBuilder {
    public static let arch = "segnet"
    public static let summary = "SegNet for segmentation: VGG-like encoder, decoder upsampling with the encoder's max-pooling indices"

    public static let parameters: [Parameter] = [
        .bands, .classes,
        Parameter("filters", .int, .value(.int(64)), "filters of the first stage; doubled at each stage down to at most 8×"),
        Parameter("depth", .int, .value(.int(5)), "encoder stages, each halving the size (5 = VGG-16)"),
        Parameter("convs", .ints, .auto("VGG: 2 for the first two stages, 3 for the others — [2, 2, 3, 3, 3] at depth 5"),
                  "convolutions per stage, one entry per stage (the decoder mirrors them)"),
        Parameter("head_kernel", .int, .value(.int(3)), "kernel of the classifier conv (1 or 3; the paper's conv1_1_D is 3)"),
        Parameter("size", .int, .value(.int(256)), "input height and width when no input shape is given"),
        .batchNorm,
        Parameter("dropout", .double, .value(.double(0)),
                  "dropout rate after each encoder pool and decoder stage (Bayesian SegNet; 0 = none)"),
        .task("classification"),
    ]

    public static func validate(_ p: Params) throws {
        for k in ["bands", "classes", "filters", "size"] where p.int(k) < 1 {
            throw p.error(k, "must be at least 1, got \(p.int(k))")
        }
        let depth = p.int("depth")
        guard (1...8).contains(depth) else { throw p.error("depth", "must be in 1...8, got \(depth)") }
        if let convs = p.intsIfSet("convs") {
            guard convs.count == depth else {
                throw p.error("convs", "has \(convs.count) entries but depth is \(depth) (one entry per stage)")
            }
            guard convs.allSatisfy({ $0 >= 1 }) else { throw p.error("convs", "entries must be at least 1, got \(convs)") }
        }
        guard [1, 3].contains(p.int("head_kernel")) else {
            throw p.error("head_kernel", "must be 1 or 3, got \(p.int("head_kernel"))")
        }
        guard (0..<1).contains(p.double("dropout")) else { throw p.error("dropout", "must be in [0, 1), got \(p.double("dropout"))") }
    }

    public static func defaultInput(_ p: Params) -> [Int] { [p.int("bands"), p.int("size"), p.int("size")] }

    public static func build(_ p: Params, _ net: Net, input: Value) throws -> Value {
        let depth = p.int("depth"), f = p.int("filters"), bn = p.bool("batch_norm"), drop = p.double("dropout")
        let convs = p.intsIfSet("convs") ?? VGG.convs(depth: depth)
        let shape = net.shape(input)
        try VGG.checkInput(shape, halvings: depth, key: "depth", p)
        var x = input
        var poolInputs: [Value] = []
        for i in 1...depth {
            for j in 1...convs[i - 1] {
                x = try net.convBlock("enc\(i)", x, VGG.filters(f, stage: i), index: j, batchNorm: bn)
            }
            poolInputs.append(x)
            x = try net.add("pool\(i)", MaxPool(kernel: 2), x)
            if drop > 0 { x = try net.add("drop\(i)", Dropout(Float(drop)), x) }
        }
        for i in (1...depth).reversed() {
            x = try net.add("unpool\(i)", MaxUnpool(kernel: 2), x, poolInputs[i - 1])
            let n = convs[i - 1], c = VGG.filters(f, stage: i), narrow = VGG.filters(f, stage: max(i - 1, 1))
            // Stage 1's last conv is the classifier below.
            for j in 1...n where i > 1 || j < n {
                x = try net.convBlock("dec\(i)", x, j == n ? narrow : c, index: j, batchNorm: bn)
            }
            if drop > 0 && i > 1 { x = try net.add("dec\(i).drop", Dropout(Float(drop)), x) }
        }
        return try net.conv("head", x, p.int("classes"), kernel: p.int("head_kernel"))
    }
}

/// The VGG-like encoder layout SegNet and FCN share.
enum VGG {
    /// Convolutions per stage: VGG-16's [2, 2, 3, 3, 3], continued with 3s.
    static func convs(depth: Int) -> [Int] { (0..<depth).map { $0 < 2 ? 2 : 3 } }

    /// Channels of stage `stage` (1-based): base·2^(stage−1), at most base·8 (64 … 512).
    static func filters(_ base: Int, stage: Int) -> Int { base << min(stage - 1, 3) }

    /// A 2D input (N×C×H×W) whose H and W halve `halvings` times evenly; errors name `key`.
    static func checkInput(_ shape: Shape, halvings: Int, key: String, _ p: Params) throws {
        guard shape.rank == 4 else {
            throw p.error("input", "must be an image batch N×C×H×W, got \(shape)")
        }
        let m = 1 << halvings
        guard shape.spatial.allSatisfy({ $0 % m == 0 }) else {
            throw p.error(key, "\(halvings) halvings need the input height and width divisible by \(m), got \(shape) (a smaller \(key), or another size)")
        }
    }
}
