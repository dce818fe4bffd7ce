import Engine

/// ResNet (He et al. 2016), 2D and 3D, with torchvision's layer names (conv1, bn1, layer1.0.conv1,
/// layer1.0.downsample.0, fc): a stem, stages of basic or bottleneck residual blocks (the first
/// block of a stage carries its stride), a scene or centre-pixel head.
///
/// depth 18 | 34 | 50 are torchvision's resnet18/34/50 (bias-free convs, the bottleneck's stride on
/// its 3×3 conv): 11,689,512 / 21,797,672 / 25,557,032 parameters for 3 bands and 1000 classes.
/// `variant: "so2sat"` is exactly the So2Sat LCZ42 notebook's Keras ResNet-50 (the benchmark's
/// `So2SatResNet50`): ZeroPad 3 + conv 7×7/2 64 + BN + ReLU + max-pool 3/2 (no padding), bottleneck
/// stages of 3, 4, 6, 3 blocks with strides 1, 1, 2, 2 and the stride on the first 1×1 conv, the
/// first block 32 wide inside, convs with biases; 23,553,297 parameters for 10 bands, 17 classes.
/// 3D: see `ConvGeometry` (time is never strided by the stem; by stages only with `time_stride`).
public enum ResNet: ModelBuilder {
    public static let arch = "resnet"
    public static let summary = "ResNet-18/34/50 or custom (He 2016; torchvision's, or the So2Sat notebook's ResNet-50) for scene or centre-pixel classification, 2D or 3D"

    public static let parameters: [Parameter] = [
        Parameter("dims", .int, .value(.int(2)), "2: images N×C×H×W; 3: image time series N×C×T×H×W"),
        .bands, .classes,
        Parameter("variant", .string(choices: ["standard", "so2sat"]), .value(.string("standard")),
                  "standard: torchvision's ResNets (or custom stages); so2sat: exactly the So2Sat LCZ42 notebook's ResNet-50 (fixes depth, block, stages, widths, strides, stem, stride_on)"),
        Parameter("depth", .int, .auto("18; 50 for so2sat"), "18, 34 (basic blocks 2-2-2-2, 3-4-6-3) or 50 (bottleneck blocks 3-4-6-3); or give stages"),
        Parameter("block", .string(choices: ["basic", "bottleneck"]), .auto("from depth; basic with custom stages"),
                  "basic: two 3×3 convs; bottleneck: 1×1, 3×3, 1×1 convs, 4 × width out"),
        Parameter("stages", .ints, .auto("from depth"), "residual blocks per stage (instead of depth), e.g. [2, 2]"),
        Parameter("widths", .ints, .auto("64, 128, 256, … per stage"), "per stage: the block width (a bottleneck's inner width; it outputs 4 ×)"),
        Parameter("strides", .ints, .auto("1 then 2 for each further stage; so2sat 1, 1, 2, 2"),
                  "per stage: the stride of its first block (1 everywhere keeps the stem's resolution)"),
        Parameter("stem", .string(choices: ConvNetParts.stemChoices), .auto("imagenet; so2sat's own for variant so2sat"),
                  "imagenet: conv 7×7/2, BN, ReLU, max-pool 3/2 (÷4); small: conv 3×3/1, BN, ReLU, no pool (small patches)"),
        Parameter("stem_width", .int, .auto("the first stage's width"), "filters of the stem conv"),
        Parameter("stride_on", .string(choices: ["first", "middle"]), .auto("middle (torchvision); first for so2sat"),
                  "bottleneck: the stride on the first 1×1 conv (Keras, original paper) or on the 3×3 conv (torchvision)"),
        Parameter("conv_bias", .bool, .auto("false; true for so2sat"), "biases on the convolutions (BN follows each)"),
        Parameter("head", .string(choices: ConvNetParts.headChoices), .value(.string("scene")), ConvNetParts.headHelp),
        .dropout,
        Parameter("size", .int, .auto("224 for the imagenet stem, 32 for small and so2sat"), "input height and width when no input shape is given"),
        Parameter("dates", .int, .value(.int(8)), "3D: dates when no input shape is given"),
        Parameter("time_stride", .bool, .value(.bool(false)), "3D: stage strides also downsample time"),
        .task("classification"),
    ]

    static let depths: [Int: (block: String, stages: [Int])] = [
        18: ("basic", [2, 2, 2, 2]), 34: ("basic", [3, 4, 6, 3]), 50: ("bottleneck", [3, 4, 6, 3]),
    ]

    public static func validate(_ p: Params) throws {
        guard [2, 3].contains(p.int("dims")) else { throw p.error("dims", "must be 2 or 3, got \(p.int("dims"))") }
        for k in ["bands", "classes", "dates"] where p.int(k) < 1 { throw p.error(k, "must be at least 1, got \(p.int(k))") }
        for k in ["size", "stem_width"] { if let v = p.intIfSet(k), v < 1 { throw p.error(k, "must be at least 1, got \(v)") } }
        guard (0..<1).contains(p.double("dropout")) else { throw p.error("dropout", "must be in [0, 1), got \(p.double("dropout"))") }
        if p.string("variant") == "so2sat" {
            for k in ["stages", "widths", "strides", "stem", "stem_width", "stride_on"] where p.has(k) {
                throw p.error(k, "is fixed by variant so2sat (the notebook's ResNet-50); use variant standard to set it")
            }
            if let d = p.intIfSet("depth"), d != 50 { throw p.error("depth", "must be 50 for variant so2sat, got \(d)") }
            if p.has("block"), p.string("block") != "bottleneck" { throw p.error("block", "must be bottleneck for variant so2sat") }
            return
        }
        if let d = p.intIfSet("depth") {
            guard let std = depths[d] else { throw p.error("depth", "must be 18, 34 or 50, got \(d) (or give stages)") }
            if p.has("stages") { throw p.error("stages", "and depth both set: give one of them") }
            if p.has("block"), p.string("block") != std.block {
                throw p.error("block", "is \(p.string("block")) but depth \(d) uses \(std.block) blocks (give stages for a custom network)")
            }
        }
        let n: Int
        if let s = p.intsIfSet("stages") {
            guard !s.isEmpty, s.allSatisfy({ $0 >= 1 }) else { throw p.error("stages", "must be a non-empty list of block counts ≥ 1, got \(s)") }
            n = s.count
        } else {
            n = 4
        }
        if let w = p.intsIfSet("widths") {
            guard w.count == n, w.allSatisfy({ $0 >= 1 }) else { throw p.error("widths", "must give \(n) widths ≥ 1 (one per stage), got \(w)") }
        }
        if let s = p.intsIfSet("strides") {
            guard s.count == n, s.allSatisfy({ (1...4).contains($0) }) else {
                throw p.error("strides", "must give \(n) strides in 1...4 (one per stage), got \(s)")
            }
        }
    }

    /// The network the settings describe.
    struct Config {
        var bottleneck: Bool
        var stages: [Int]
        var widths: [Int]
        var strides: [Int]
        var stem: String
        var stemWidth: Int
        var strideOnFirst: Bool
        var bias: Bool
        var so2sat: Bool
    }

    static func config(_ p: Params) -> Config {
        let bias = p.has("conv_bias") ? p.bool("conv_bias") : nil
        if p.string("variant") == "so2sat" {
            return Config(bottleneck: true, stages: [3, 4, 6, 3], widths: [64, 128, 256, 512], strides: [1, 1, 2, 2],
                          stem: "so2sat", stemWidth: 64, strideOnFirst: true, bias: bias ?? true, so2sat: true)
        }
        let std = depths[p.intIfSet("depth") ?? 18]!
        let stages = p.intsIfSet("stages") ?? std.stages
        let block = p.has("block") ? p.string("block") : (p.has("stages") ? "basic" : std.block)
        let widths = p.intsIfSet("widths") ?? stages.indices.map { 64 << $0 }
        return Config(bottleneck: block == "bottleneck", stages: stages, widths: widths,
                      strides: p.intsIfSet("strides") ?? stages.indices.map { $0 == 0 ? 1 : 2 },
                      stem: p.has("stem") ? p.string("stem") : "imagenet", stemWidth: p.intIfSet("stem_width") ?? widths[0],
                      strideOnFirst: p.has("stride_on") && p.string("stride_on") == "first", bias: bias ?? false, so2sat: false)
    }

    public static func defaultInput(_ p: Params) -> [Int] {
        let stem = config(p).stem
        return ConvNetParts.defaultInput(p, size: p.intIfSet("size") ?? (stem == "imagenet" ? 224 : 32))
    }

    public static func build(_ p: Params, _ net: Net, input: Value) throws -> Value {
        try ConvNetParts.checkRank(p, net, input)
        let c = config(p), g = ConvGeometry(p)
        var x = try ConvNetParts.blame(p, c.so2sat ? "variant" : "stem") {
            try ConvNetParts.stem(net, input, kind: c.stem, width: c.stemWidth, bias: c.bias, geometry: g,
                                  names: StemNames(conv: "conv1", bn: "bn1", pool: "maxpool"))
        }
        try ConvNetParts.blame(p, c.so2sat ? "variant" : "strides") {
            for (s, blocks) in c.stages.enumerated() {
                for b in 0..<blocks {
                    let name = "layer\(s + 1).\(b)", stride = b == 0 ? c.strides[s] : 1, w = c.widths[s]
                    if c.bottleneck {
                        // The notebook's first block is half as wide inside ([32, 32, 256]).
                        let mid = c.so2sat && s == 0 && b == 0 ? w / 2 : w
                        x = try ConvNetParts.bottleneckBlock(net, name, x, mid: mid, out: 4 * w, stride: stride,
                                                             strideOnFirst: c.strideOnFirst, bias: c.bias, geometry: g)
                    } else {
                        x = try ConvNetParts.basicBlock(net, name, x, width: w, stride: stride, bias: c.bias, geometry: g)
                    }
                }
            }
        }
        return try ConvNetParts.head(p, net, x, geometry: g, pool: "avgpool", fc: "fc")
    }
}
