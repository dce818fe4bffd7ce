import Engine

/// DeepLabv3 (Chen et al. 2017; seed 002's table), 2D, on a ResNet-18-like backbone whose last
/// stages trade stride for dilation (atrous convolution) to keep an output stride of 16 or 8:
///   stem: "conv1" 7×7/2 (no bias), "bn1", ReLU, "maxpool" 3/2 pad 1            (stride 4)
///   "layer1"…"layer4": `blocks` basic residual blocks each ([conv 3, BN, ReLU, conv 3, BN] +
///     shortcut, ReLU; a 1×1 conv + BN "downsample" shortcut where the shape changes) with
///     filters·1, 2, 4, 8 channels; layer2 has stride 2; layer3 stride 2 (dilation 2 at output
///     stride 8); layer4 dilation 2 (output stride 16) or 4 (8). Every conv of a dilated stage
///     uses its dilation.
///   ASPP ("aspp.*", `aspp_filters` channels, each conv without bias + BN + ReLU): a 1×1 conv
///     ("aspp.b0"), a 3×3 conv per rate with that dilation ("aspp.b1"…), and image pooling
///     ("aspp.pool": average over the whole feature map → 1×1 conv → broadcast back by nearest
///     upsampling); concatenated → "aspp.project" 1×1 conv (+ dropout) → "head" 1×1 conv to the
///     classes → bilinear upsampling by the output stride (align_corners = false) to the input size.
/// The image-pooling branch's batch norm sees one value per sample and channel: with batch 1 in
/// training it outputs its bias (PyTorch refuses that case).
/// Default (filters 64, blocks [2, 2, 2, 2]) is ResNet-18's backbone: with 3 bands, 21 classes,
/// 15,313,749 parameters, as the PyTorch reference of the same structure.
public enum DeepLab: ModelBuilder {
    public static let arch = "deeplab"
    public static let summary = "DeepLabv3 for segmentation: dilated ResNet-18-like backbone (output stride 8 or 16), atrous spatial pyramid pooling"

    public static let parameters: [Parameter] = [
        .bands, .classes,
        Parameter("filters", .int, .value(.int(64)), "channels of the stem and layer1; doubled at each of layer2…4 (64 = ResNet-18)"),
        Parameter("blocks", .ints, .value(.ints([2, 2, 2, 2])), "residual blocks in layer1…layer4 (four entries)"),
        Parameter("output_stride", .int, .value(.int(16)), "input size / feature map size: 16 (layer4 dilated) or 8 (layer3 and layer4 dilated)"),
        Parameter("rates", .ints, .auto("[6, 12, 18] at output stride 16, doubled at 8, as the paper"),
                  "dilation rates of the ASPP's 3×3 convs"),
        Parameter("aspp_filters", .int, .auto("4 × filters: 256 as the paper"), "channels of every ASPP branch and its projection"),
        Parameter("size", .int, .value(.int(256)), "input height and width when no input shape is given"),
        Parameter("dropout", .double, .value(.double(0)), "dropout rate after the ASPP projection (0 = none)"),
        .task("classification"),
    ]

    public static func validate(_ p: Params) throws {
        for k in ["bands", "classes", "filters", "size"] where p.int(k) < 1 {
            throw p.error(k, "must be at least 1, got \(p.int(k))")
        }
        let blocks = p.ints("blocks")
        guard blocks.count == 4, blocks.allSatisfy({ $0 >= 1 }) else {
            throw p.error("blocks", "must have four entries (layer1…layer4), each at least 1, got \(blocks)")
        }
        guard [8, 16].contains(p.int("output_stride")) else {
            throw p.error("output_stride", "must be 8 or 16, got \(p.int("output_stride"))")
        }
        if let rates = p.intsIfSet("rates") {
            guard !rates.isEmpty, rates.allSatisfy({ $0 >= 1 }) else {
                throw p.error("rates", "must be one or more dilation rates, each at least 1, got \(rates)")
            }
        }
        if let a = p.intIfSet("aspp_filters"), a < 1 { throw p.error("aspp_filters", "must be at least 1, got \(a)") }
        guard (0..<1).contains(p.double("dropout")) else { throw p.error("dropout", "must be in [0, 1), got \(p.double("dropout"))") }
    }

    public static func defaultInput(_ p: Params) -> [Int] { [p.int("bands"), p.int("size"), p.int("size")] }

    public static func build(_ p: Params, _ net: Net, input: Value) throws -> Value {
        let f = p.int("filters"), os = p.int("output_stride"), blocks = p.ints("blocks")
        let shape = net.shape(input)
        guard shape.rank == 4 else { throw p.error("input", "must be an image batch N×C×H×W, got \(shape)") }
        guard shape.spatial.allSatisfy({ $0 % os == 0 }) else {
            throw p.error("output_stride", "\(os) needs the input height and width divisible by \(os), got \(shape)")
        }
        // Stem.
        var x = try net.conv("conv1", input, f, kernel: 7, stride: 2, padding: 3, bias: false)
        x = try net.add("bn1", BatchNorm(), x)
        x = try net.add("relu", Activation.relu, x)
        x = try net.add("maxpool", MaxPool(kernel: 3, stride: 2, padding: 1), x)
        // Residual stages: (stride, dilation) per stage.
        let plan: [(Int, Int)] = os == 16 ? [(1, 1), (2, 1), (2, 1), (1, 2)] : [(1, 1), (2, 1), (1, 2), (1, 4)]
        var channels = f
        for (s, (stride, dilation)) in plan.enumerated() {
            let out = f << s
            for b in 0..<blocks[s] {
                let name = "layer\(s + 1).\(b)", st = b == 0 ? stride : 1
                var h = try net.conv("\(name).conv1", x, out, stride: st, dilation: dilation, bias: false)
                h = try net.add("\(name).bn1", BatchNorm(), h)
                h = try net.add("\(name).relu1", Activation.relu, h)
                h = try net.conv("\(name).conv2", h, out, dilation: dilation, bias: false)
                h = try net.add("\(name).bn2", BatchNorm(), h)
                var shortcut = x
                if st != 1 || channels != out {
                    shortcut = try net.conv("\(name).downsample.0", x, out, kernel: 1, stride: st, bias: false)
                    shortcut = try net.add("\(name).downsample.1", BatchNorm(), shortcut)
                }
                h = try net.add("\(name).add", Add(), h, shortcut)
                x = try net.add("\(name).relu2", Activation.relu, h)
                channels = out
            }
        }
        // ASPP.
        let a = p.intIfSet("aspp_filters") ?? 4 * f
        let rates = p.intsIfSet("rates") ?? (os == 16 ? [6, 12, 18] : [12, 24, 36])
        func branch(_ name: String, _ x: Value, kernel: Int, dilation: Int = 1) throws -> Value {
            let h = try net.conv("\(name).conv", x, a, kernel: kernel, dilation: dilation, bias: false)
            return try net.add("\(name).relu", Activation.relu, try net.add("\(name).bn", BatchNorm(), h))
        }
        var branches = [try branch("aspp.b0", x, kernel: 1)]
        for (i, r) in rates.enumerated() { branches.append(try branch("aspp.b\(i + 1)", x, kernel: 3, dilation: r)) }
        let fm = net.shape(x).spatial
        var pooled = try net.add("aspp.pool.avg", AvgPool(kernel: fm), x)
        pooled = try branch("aspp.pool", pooled, kernel: 1)
        branches.append(try net.add("aspp.pool.up", Upsample(scale: fm, .nearest), pooled))
        x = try net.add("aspp.cat", Concat(), branches)
        x = try branch("aspp.project", x, kernel: 1)
        if p.double("dropout") > 0 { x = try net.add("aspp.project.drop", Dropout(Float(p.double("dropout"))), x) }
        x = try net.conv("head", x, p.int("classes"), kernel: 1)
        return try net.add("upsample", Upsample(scale: os, .linear), x)
    }
}
