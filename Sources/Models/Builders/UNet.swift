import Engine

/// U-Net (Ronneberger 2015), 2D and 3D, as Alquimodelia's UNet2D/UNet3D and the benchmark's
/// reference: per level 2 × [conv 3, BN, ReLU] (BN and ReLU as one fused layer) then max-pool 2; a bottom block of
/// filters·2^levels; per level up again: transposed conv 2/2 (or upsampling + 1×1 conv),
/// concatenation with the skip, 2 × [conv, BN, ReLU]; a 1×1 conv to the classes.
/// 3D (N×C×T×H×W, an image time series) pools time too and collapses it at the output:
/// "mean" averages the class scores over time; "conv" learns a linear combination of dates
/// (a conv spanning all remaining dates) before the 1×1 head.
public enum UNet: ModelBuilder {
    public static let arch = "unet"
    public static let summary = "U-Net for segmentation (2D images, or 3D image time series collapsed to one map)"

    public static let parameters: [Parameter] = [
        Parameter("dims", .int, .value(.int(2)), "2: images N×C×H×W; 3: image time series N×C×T×H×W"),
        .bands, .classes,
        Parameter("filters", .int, .value(.int(16)), "filters of the first level; doubled at each level down"),
        Parameter("levels", .int, .auto("as many times as the input halves evenly, keeping ≥ 8 pixels (≥ 2 dates), at most 4"),
                  "pooling levels"),
        Parameter("size", .int, .value(.int(256)), "input height and width when no input shape is given"),
        Parameter("dates", .int, .value(.int(8)), "3D: dates when no input shape is given"),
        .batchNorm, .dropout,
        Parameter("upsampling", .string(choices: ["transpose", "nearest", "bilinear"]), .value(.string("transpose")),
                  "decoder upsampling: transposed conv 2/2, or nearest/bilinear ×2 followed by a 1×1 conv"),
        Parameter("crop", .int, .value(.int(0)), "pixels cropped from each side of the output (border effects)"),
        Parameter("time_collapse", .string(choices: ["mean", "conv"]), .value(.string("mean")),
                  "3D: how the time axis is collapsed at the output"),
        .task("classification"),
    ]

    public static func validate(_ p: Params) throws {
        guard [2, 3].contains(p.int("dims")) else { throw p.error("dims", "must be 2 or 3, got \(p.int("dims"))") }
        for k in ["bands", "classes", "filters", "size", "dates"] where p.int(k) < 1 {
            throw p.error(k, "must be at least 1, got \(p.int(k))")
        }
        if let l = p.intIfSet("levels"), l < 0 || l > 8 { throw p.error("levels", "must be in 0...8, got \(l)") }
        guard (0..<1).contains(p.double("dropout")) else { throw p.error("dropout", "must be in [0, 1), got \(p.double("dropout"))") }
        guard p.int("crop") >= 0 else { throw p.error("crop", "must be ≥ 0, got \(p.int("crop"))") }
    }

    public static func defaultInput(_ p: Params) -> [Int] {
        p.int("dims") == 2 ? [p.int("bands"), p.int("size"), p.int("size")]
                           : [p.int("bands"), p.int("dates"), p.int("size"), p.int("size")]
    }

    /// Levels for a spatial input: how often every dim halves evenly while keeping at least
    /// `minSize` (2 for dates), at most 4.
    static func autoLevels(_ spatial: [Int], dims: Int) -> Int {
        var l = 0
        while l < 4, spatial.enumerated().allSatisfy({ i, s in
            let least = (dims == 3 && i == 0) ? 2 : 8
            return s % (1 << (l + 1)) == 0 && s >> (l + 1) >= least
        }) { l += 1 }
        return l
    }

    public static func build(_ p: Params, _ net: Net, input: Value) throws -> Value {
        let dims = p.int("dims"), f = p.int("filters"), bn = p.bool("batch_norm"), drop = p.double("dropout")
        let shape = net.shape(input)
        guard shape.rank == dims + 2 else {
            throw p.error("dims", "is \(dims) but the input is \(shape) (expected \(dims == 2 ? "N×C×H×W" : "N×C×T×H×W"))")
        }
        let spatial = shape.spatial
        let levels = p.intIfSet("levels") ?? autoLevels(spatial, dims: dims)
        for s in spatial where s % (1 << levels) != 0 {
            throw p.error("levels", "\(levels) levels need every input dim divisible by \(1 << levels), got \(shape) (fewer levels, or another size)")
        }
        // conv → BN+ReLU (one fused layer, "name.bn{i}") → [dropout]; without BN, conv → ReLU.
        func unit(_ name: String, _ x: Value, _ out: Int, index i: Int, dropout: Double) throws -> Value {
            guard bn else { return try net.convBlock(name, x, out, index: i, batchNorm: false, dropout: dropout) }
            var h = try net.conv("\(name).conv\(i)", x, out)
            h = try net.add("\(name).bn\(i)", BatchNorm(relu: true), h)
            if dropout > 0 { h = try net.add("\(name).drop\(i)", Dropout(Float(dropout)), h) }
            return h
        }
        func block(_ name: String, _ x: Value, _ out: Int) throws -> Value {
            let h = try unit(name, x, out, index: 1, dropout: drop)
            return try unit(name, h, out, index: 2, dropout: 0)
        }
        var x = input
        var skips: [Value] = []
        for i in 0..<levels {
            x = try block("enc\(i + 1)", x, f << i)
            skips.append(x)
            x = try net.add("pool\(i + 1)", MaxPool(kernel: 2), x)
        }
        x = try block("mid", x, f << levels)
        for i in (0..<levels).reversed() {
            let out = f << i
            switch p.string("upsampling") {
            case "transpose":
                x = try net.add("up\(i + 1)", ConvTranspose(outChannels: out, kernel: 2, stride: 2), x)
            case let mode:
                x = try net.add("up\(i + 1).resize", Upsample(scale: 2, mode == "nearest" ? .nearest : .linear), x)
                x = try net.conv("up\(i + 1).conv", x, out, kernel: 1)
            }
            x = try net.add("cat\(i + 1)", Concat(), x, skips[i])
            x = try block("dec\(i + 1)", x, out)
        }
        if dims == 3 && p.string("time_collapse") == "conv" {
            // A conv over all remaining dates, then drop the unit time axis.
            let t = net.shape(x).spatial[0]
            x = try net.add("collapse", Conv(outChannels: f, kernel: [t, 1, 1]), x)
            let s = net.shape(x)
            x = try net.add("collapse.squeeze", Reshape([s[1], s[3], s[4]]), x)
        }
        x = try net.conv("head", x, p.int("classes"), kernel: 1)
        if dims == 3 && p.string("time_collapse") == "mean" {
            x = try net.add("collapse", MeanAxis(axis: 2), x)
        }
        let c = p.int("crop")
        if c > 0 {
            let s = net.shape(x).spatial
            guard s.allSatisfy({ $0 > 2 * c }) else { throw p.error("crop", "\(c) removes the whole output \(net.shape(x))") }
            x = try net.add("crop", Crop(begin: [c], end: [c]), x)
        }
        return x
    }
}
