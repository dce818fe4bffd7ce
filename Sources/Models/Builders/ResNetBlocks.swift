import Engine

/// The parts ResNet and DenseNet share: 2D/3D kernel geometry, the stems, the heads, the
/// residual blocks, and input checks that name the setting at fault.
///
/// 3D (N×C×T×H×W, an image time series) follows torchvision's R3D: the stem's conv is 3×7×7
/// (3×3×3 for the small stem) and never strides time, the stem's max-pool is 1×3×3; block
/// convs are 3×3×3 and 1×1×1. Stage strides (and DenseNet's transition pools) downsample H
/// and W, and time only with `time_stride`; the scene head averages over time too.
struct ConvGeometry {
    let dims: Int
    let timeStride: Bool

    init(_ p: Params) {
        dims = p.int("dims")
        timeStride = p.bool("time_stride")
    }

    /// A per-dim list: `v` for H and W, `time` for T (3D).
    func list(_ v: Int, time: Int) -> [Int] { dims == 2 ? [v, v] : [time, v, v] }
    /// A cubic kernel (or square in 2D).
    func cube(_ v: Int) -> [Int] { Array(repeating: v, count: dims) }
    /// A stage's downsampling stride.
    func stride(_ s: Int) -> [Int] { list(s, time: timeStride ? s : 1) }
}

/// Which layer names a network uses for its stem and head (torchvision's, per family).
struct StemNames {
    /// `bn` is BN+ReLU in one layer.
    let conv, bn, pool: String
}

enum ConvNetParts {
    static let stemChoices = ["imagenet", "small"]

    /// The per-sample default input: bands × size × size, or bands × dates × size × size.
    static func defaultInput(_ p: Params, size: Int) -> [Int] {
        p.int("dims") == 2 ? [p.int("bands"), size, size] : [p.int("bands"), p.int("dates"), size, size]
    }

    /// Checks the input's rank against `dims`.
    static func checkRank(_ p: Params, _ net: Net, _ x: Value) throws {
        let dims = p.int("dims"), s = net.shape(x)
        guard s.rank == dims + 2 else {
            throw p.error("dims", "is \(dims) but the input is \(s) (expected \(dims == 2 ? "N×C×H×W" : "N×C×T×H×W"))")
        }
    }

    /// Runs `body`; a shape error from a layer (an input too small for the downsampling) is
    /// reported against the setting `key` that causes it.
    static func blame<T>(_ p: Params, _ key: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as EngineError {
            throw p.error(key, "does not fit the input: \(e) (a larger input, or less downsampling)")
        }
    }

    /// conv (no activation) with per-dim kernel/stride/padding.
    static func conv(_ net: Net, _ name: String, _ x: Value, _ out: Int, kernel: [Int], stride: [Int]? = nil,
                     padding: [Int]? = nil, bias: Bool) throws -> Value {
        try net.add(name, Conv(outChannels: out, kernel: kernel, stride: stride, padding: padding, bias: bias), x)
    }

    /// The stems:
    ///   imagenet  conv 7×7/2 pad 3 → BN → ReLU → max-pool 3/2 pad 1 (He 2016, torchvision)
    ///   so2sat    as imagenet but the max-pool has no padding (Keras: ZeroPadding 3 + a
    ///             valid conv, then a valid pool), as the So2Sat notebook's ResNet-50
    ///   small     conv 3×3/1 pad 1 → BN → ReLU, no pool (small patches)
    /// (BN → ReLU is one layer, `names.bn`.)
    static func stem(_ net: Net, _ x: Value, kind: String, width: Int, bias: Bool, geometry g: ConvGeometry,
                     names n: StemNames) throws -> Value {
        var h: Value
        if kind == "small" {
            h = try conv(net, n.conv, x, width, kernel: g.cube(3), padding: g.cube(1), bias: bias)
        } else {
            h = try conv(net, n.conv, x, width, kernel: g.list(7, time: 3), stride: g.list(2, time: 1),
                         padding: g.list(3, time: 1), bias: bias)
        }
        h = try net.add(n.bn, BatchNorm(relu: true), h)
        if kind != "small" {
            h = try net.add(n.pool, MaxPool(kernel: g.list(3, time: 1), stride: g.list(2, time: 1),
                                            padding: kind == "so2sat" ? [0] : g.list(1, time: 0)), h)
        }
        return h
    }

    static let headChoices = ["scene", "pixel"]
    static let headHelp = """
        scene: global average pool → dense (N×classes); pixel: the class of the input patch's centre \
        pixel — the final map's centre position (index ⌊(s−1)/2⌋ per spatial dim; in 3D all dates) → \
        flatten → dense (N×classes)
        """

    /// The head: features → [dropout] → dense `classes`, named `fc`.
    static func head(_ p: Params, _ net: Net, _ x: Value, geometry g: ConvGeometry, pool: String, fc: String) throws -> Value {
        var h: Value
        if p.string("head") == "scene" {
            h = try net.add(pool, GlobalAvgPool(), x)
        } else {
            let s = net.shape(x).spatial
            // One position in H and W; every date in 3D (the dense layer mixes them).
            h = try net.add("center", Crop(centerTo: g.dims == 2 ? [1, 1] : [s[0], 1, 1]), x)
            h = try net.add("flatten", Flatten(), h)
        }
        let drop = p.double("dropout")
        if drop > 0 { h = try net.add("dropout", Dropout(Float(drop)), h) }
        return try net.add(fc, Dense(p.int("classes")), h)
    }

    /// Basic residual block (ResNet-18/34): conv 3×3/stride → BN → ReLU → conv 3×3 → BN, plus the
    /// input (or its 1×1/stride conv + BN projection when channels or stride change) → ReLU.
    /// Each ReLU is fused into the layer before it (BN+ReLU `bn1`, add+ReLU `relu`).
    static func basicBlock(_ net: Net, _ name: String, _ x: Value, width: Int, stride: Int, bias: Bool,
                           geometry g: ConvGeometry) throws -> Value {
        var h = try conv(net, "\(name).conv1", x, width, kernel: g.cube(3), stride: g.stride(stride), padding: g.cube(1), bias: bias)
        h = try net.add("\(name).bn1", BatchNorm(relu: true), h)
        h = try conv(net, "\(name).conv2", h, width, kernel: g.cube(3), padding: g.cube(1), bias: bias)
        h = try net.add("\(name).bn2", BatchNorm(), h)
        return try residual(net, name, main: h, x, out: width, stride: stride, bias: bias, geometry: g)
    }

    /// Bottleneck residual block (ResNet-50): 1×1 conv `mid` → BN → ReLU → 3×3 conv `mid` → BN →
    /// ReLU → 1×1 conv `out` → BN, plus the (projected) input → ReLU. The stride sits on the
    /// first 1×1 conv (Keras, the So2Sat notebook) or on the 3×3 conv (torchvision, "ResNet v1.5").
    /// Each ReLU is fused into the layer before it (BN+ReLU `bn1`, `bn2`; add+ReLU `relu`).
    static func bottleneckBlock(_ net: Net, _ name: String, _ x: Value, mid: Int, out: Int, stride: Int,
                                strideOnFirst: Bool, bias: Bool, geometry g: ConvGeometry) throws -> Value {
        let s1 = strideOnFirst ? stride : 1, s2 = strideOnFirst ? 1 : stride
        var h = try conv(net, "\(name).conv1", x, mid, kernel: g.cube(1), stride: g.stride(s1), bias: bias)
        h = try net.add("\(name).bn1", BatchNorm(relu: true), h)
        h = try conv(net, "\(name).conv2", h, mid, kernel: g.cube(3), stride: g.stride(s2), padding: g.cube(1), bias: bias)
        h = try net.add("\(name).bn2", BatchNorm(relu: true), h)
        h = try conv(net, "\(name).conv3", h, out, kernel: g.cube(1), bias: bias)
        h = try net.add("\(name).bn3", BatchNorm(), h)
        return try residual(net, name, main: h, x, out: out, stride: stride, bias: bias, geometry: g)
    }

    /// main + shortcut → ReLU in one layer (`relu`, add+ReLU); the shortcut is the input, or
    /// `downsample.0` (1×1/stride conv) → `downsample.1` (BN) when channels or stride differ
    /// (torchvision's names).
    private static func residual(_ net: Net, _ name: String, main: Value, _ x: Value, out: Int, stride: Int, bias: Bool,
                                 geometry g: ConvGeometry) throws -> Value {
        var shortcut = x
        if stride != 1 || net.shape(x).channels != out {
            shortcut = try conv(net, "\(name).downsample.0", x, out, kernel: g.cube(1), stride: g.stride(stride), bias: bias)
            shortcut = try net.add("\(name).downsample.1", BatchNorm(), shortcut)
        }
        return try net.add("\(name).relu", Add(relu: true), main, shortcut)
    }
}
