import Engine

/// DenseNet-BC (Huang et al. 2017), 2D and 3D, with torchvision's layer names
/// (features.conv0, features.denseblock1.denselayer1.conv1, features.transition1.conv, classifier):
/// a stem, dense blocks whose layers each see the concatenation of all earlier features
/// (BN → ReLU → 1×1 conv bn_size·k → BN → ReLU → 3×3 conv k, concatenated to their input), between
/// blocks a transition (BN → ReLU → 1×1 conv ⌊compression·C⌋ → avg-pool 2), then BN → ReLU → head.
/// The defaults are torchvision's densenet121: 7,978,856 parameters for 3 bands, 1000 classes.
/// Each dense layer concatenates into a new value, so activations grow quadratically with the
/// block length (fine at these sizes). 3D: see `ConvGeometry` (transitions pool time only with
/// `time_stride`).
public enum DenseNet: ModelBuilder {
    public static let arch = "densenet"
    public static let summary = "DenseNet-BC (Huang 2017; default DenseNet-121 as torchvision's) for scene or centre-pixel classification, 2D or 3D"

    public static let parameters: [Parameter] = [
        Parameter("dims", .int, .value(.int(2)), "2: images N×C×H×W; 3: image time series N×C×T×H×W"),
        .bands, .classes,
        Parameter("growth", .int, .value(.int(32)), "growth rate k: feature maps each dense layer adds"),
        Parameter("blocks", .ints, .value(.ints([6, 12, 24, 16])),
                  "dense layers per block: [6, 12, 24, 16] DenseNet-121, [6, 12, 32, 32] -169, [6, 12, 48, 32] -201"),
        Parameter("init_features", .int, .auto("2 × growth"), "filters of the stem conv"),
        Parameter("bottleneck", .bool, .value(.bool(true)), "a 1×1 conv to bn_size·growth before each 3×3 conv (DenseNet-B)"),
        Parameter("bn_size", .int, .value(.int(4)), "bottleneck width as a multiple of growth"),
        Parameter("compression", .double, .value(.double(0.5)), "transition layers keep ⌊compression · channels⌋ (DenseNet-C), in (0, 1]"),
        Parameter("stem", .string(choices: ConvNetParts.stemChoices), .value(.string("imagenet")),
                  "imagenet: conv 7×7/2, BN, ReLU, max-pool 3/2 (÷4); small: conv 3×3/1, BN, ReLU, no pool (small patches)"),
        Parameter("conv_bias", .bool, .value(.bool(false)), "biases on the convolutions"),
        Parameter("head", .string(choices: ConvNetParts.headChoices), .value(.string("scene")), ConvNetParts.headHelp),
        .dropout,
        Parameter("size", .int, .auto("224 for the imagenet stem, 32 for small"), "input height and width when no input shape is given"),
        Parameter("dates", .int, .value(.int(8)), "3D: dates when no input shape is given"),
        Parameter("time_stride", .bool, .value(.bool(false)), "3D: transitions also halve time"),
        .task("classification"),
    ]

    public static func validate(_ p: Params) throws {
        guard [2, 3].contains(p.int("dims")) else { throw p.error("dims", "must be 2 or 3, got \(p.int("dims"))") }
        for k in ["bands", "classes", "growth", "bn_size", "dates"] where p.int(k) < 1 {
            throw p.error(k, "must be at least 1, got \(p.int(k))")
        }
        for k in ["size", "init_features"] { if let v = p.intIfSet(k), v < 1 { throw p.error(k, "must be at least 1, got \(v)") } }
        let b = p.ints("blocks")
        guard !b.isEmpty, b.allSatisfy({ $0 >= 1 }) else { throw p.error("blocks", "must be a non-empty list of layer counts ≥ 1, got \(b)") }
        let comp = p.double("compression")
        guard comp > 0 && comp <= 1 else { throw p.error("compression", "must be in (0, 1], got \(comp)") }
        guard (0..<1).contains(p.double("dropout")) else { throw p.error("dropout", "must be in [0, 1), got \(p.double("dropout"))") }
    }

    public static func defaultInput(_ p: Params) -> [Int] {
        ConvNetParts.defaultInput(p, size: p.intIfSet("size") ?? (p.string("stem") == "imagenet" ? 224 : 32))
    }

    public static func build(_ p: Params, _ net: Net, input: Value) throws -> Value {
        try ConvNetParts.checkRank(p, net, input)
        let g = ConvGeometry(p), k = p.int("growth"), bias = p.bool("conv_bias"), blocks = p.ints("blocks")
        var x = try ConvNetParts.blame(p, "stem") {
            try ConvNetParts.stem(net, input, kind: p.string("stem"), width: p.intIfSet("init_features") ?? 2 * k, bias: bias,
                                  geometry: g, names: StemNames(conv: "features.conv0", bn: "features.norm0",
                                                                pool: "features.pool0"))
        }
        for (i, layers) in blocks.enumerated() {
            for j in 1...layers {
                x = try denseLayer(p, net, "features.denseblock\(i + 1).denselayer\(j)", x, growth: k, geometry: g)
            }
            if i < blocks.count - 1 {
                let name = "features.transition\(i + 1)"
                let out = Int(Double(net.shape(x).channels) * p.double("compression"))
                guard out >= 1 else { throw p.error("compression", "\(p.double("compression")) leaves no channels in \(name)") }
                var h = try net.add("\(name).norm", BatchNorm(), x)
                h = try net.add("\(name).relu", Activation.relu, h)
                h = try ConvNetParts.conv(net, "\(name).conv", h, out, kernel: g.cube(1), bias: bias)
                x = try ConvNetParts.blame(p, "blocks") { try net.add("\(name).pool", AvgPool(kernel: g.stride(2)), h) }
            }
        }
        x = try net.add("features.norm5", BatchNorm(), x)
        x = try net.add("features.relu5", Activation.relu, x)
        return try ConvNetParts.head(p, net, x, geometry: g, pool: "avgpool", fc: "classifier")
    }

    /// One dense layer: [BN → ReLU → 1×1 conv bn_size·k] → BN → ReLU → 3×3 conv k, concatenated
    /// after its input.
    static func denseLayer(_ p: Params, _ net: Net, _ name: String, _ x: Value, growth k: Int, geometry g: ConvGeometry) throws -> Value {
        let bias = p.bool("conv_bias")
        var h = x
        var i = 1
        if p.bool("bottleneck") {
            h = try net.add("\(name).norm1", BatchNorm(), h)
            h = try net.add("\(name).relu1", Activation.relu, h)
            h = try ConvNetParts.conv(net, "\(name).conv1", h, p.int("bn_size") * k, kernel: g.cube(1), bias: bias)
            i = 2
        }
        h = try net.add("\(name).norm\(i)", BatchNorm(), h)
        h = try net.add("\(name).relu\(i)", Activation.relu, h)
        h = try ConvNetParts.conv(net, "\(name).conv\(i)", h, k, kernel: g.cube(3), padding: g.cube(1), bias: bias)
        return try net.add("\(name).cat", Concat(), x, h)
    }
}
