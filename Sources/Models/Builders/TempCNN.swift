import Engine

/// TempCNN (Pelletier, Webb & Petitjean 2019): a pixel's time series N×B×T (bands × dates)
/// through `blocks` × [Conv1d `filters` k `kernel` pad k/2, BN, ReLU, Dropout], flattened, then
/// Linear `dense` → BN → ReLU → Dropout → Linear classes. The same structure as the benchmark's
/// reference `TempCNN` (../shared/bench/torch_bench.py): its default workload (10 bands, 24
/// dates, 10 classes) has 441,290 parameters here as there.
/// The flattened features depend on T, so the input must have `dates` dates.
public enum TempCNN: ModelBuilder {
    public static let arch = "tempcnn"
    public static let summary = "TempCNN (Pelletier 2019): 1D convolutions over a pixel's time series, for per-pixel classification"

    public static let parameters: [Parameter] = [
        .bands,
        Parameter("dates", .int, .value(.int(24)), "dates T of the input series N×bands×T (the dense layer depends on it)"),
        .classes,
        Parameter("filters", .int, .value(.int(64)), "filters of each 1D convolution"),
        Parameter("kernel", .int, .value(.int(5)), "kernel of each 1D convolution (odd; padding k/2 keeps the dates)"),
        Parameter("blocks", .int, .value(.int(3)), "convolution blocks [conv, BN, ReLU, dropout]"),
        Parameter("dense", .int, .value(.int(256)), "units of the hidden dense layer"),
        Parameter("dropout", .double, .value(.double(0.5)), "dropout rate after every block and the dense layer (0 = none)"),
        .task("classification"),
    ]

    public static func validate(_ p: Params) throws {
        for k in ["bands", "dates", "classes", "filters", "kernel", "blocks", "dense"] where p.int(k) < 1 {
            throw p.error(k, "must be at least 1, got \(p.int(k))")
        }
        guard p.int("kernel") % 2 == 1 else {
            throw p.error("kernel", "must be odd (padding k/2 then keeps the dates), got \(p.int("kernel"))")
        }
        guard (0..<1).contains(p.double("dropout")) else { throw p.error("dropout", "must be in [0, 1), got \(p.double("dropout"))") }
    }

    public static func defaultInput(_ p: Params) -> [Int] { [p.int("bands"), p.int("dates")] }

    public static func build(_ p: Params, _ net: Net, input: Value) throws -> Value {
        try PixelSeries.check(p, net.shape(input))
        let drop = p.double("dropout")
        var x = input
        // Each ReLU is fused into its BatchNorm (BN+ReLU, named bn{i} / fc.bn).
        for i in 1...p.int("blocks") {
            x = try net.conv("features.conv\(i)", x, p.int("filters"), kernel: p.int("kernel"))
            x = try net.add("features.bn\(i)", BatchNorm(relu: true), x)
            if drop > 0 { x = try net.add("features.drop\(i)", Dropout(Float(drop)), x) }
        }
        x = try net.add("flatten", Flatten(), x)
        x = try net.add("fc.linear", Dense(p.int("dense")), x)
        x = try net.add("fc.bn", BatchNorm(relu: true), x)
        if drop > 0 { x = try net.add("fc.drop", Dropout(Float(drop)), x) }
        return try net.add("head", Dense(p.int("classes"), weightInit: .glorot), x)
    }
}

/// Input checks shared by the per-pixel time-series builders (N×B×T with T = `dates`).
enum PixelSeries {
    static func check(_ p: Params, _ s: Shape) throws {
        guard s.rank == 3 else {
            throw p.error("dates", "\(p.arch) takes pixel time series N×bands×dates, got input \(s)")
        }
        guard s[2] == p.int("dates") else {
            throw p.error("dates", "is \(p.int("dates")) but the input has \(s[2]) dates (input \(s))")
        }
    }
}
