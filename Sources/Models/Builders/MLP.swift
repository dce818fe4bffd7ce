import Engine

/// The So2Sat LCZ42 notebook's simple dense model (seed 004, `simple_model`): the input
/// flattened, then per hidden layer Dense → ReLU → Dropout, then Dense classes (the notebook's
/// softmax is the loss's). Its defaults: 32×32×10 patches, one hidden layer of 128, dropout
/// 0.2, 17 local climate zones (1,313,041 parameters, as Keras counts them); its "do it
/// yourself" variant is `"hidden": [64, 32]`.
/// Any input is accepted and flattened (patches N×C×H×W, pixel series N×C×T, features N×F):
/// `size` only sets the input when none is given. The notebook flattens channels-last
/// (H, W, C); we flatten N×C×H×W as stored, which permutes the first layer's weights only.
public enum MLP: ModelBuilder {
    public static let arch = "mlp"
    public static let summary = "Dense baseline (the So2Sat notebook's simple model): flatten, hidden dense layers, classes"

    public static let parameters: [Parameter] = [
        .bands,
        Parameter("size", .int, .value(.int(32)), "patch height and width when no input shape is given (any input is flattened)"),
        Parameter("hidden", .ints, .value(.ints([128])), "units of each hidden layer, Dense → ReLU → dropout ([] = a linear model)"),
        Parameter("dropout", .double, .value(.double(0.2)), "dropout rate after each hidden layer (0 = none)"),
        Parameter("classes", .int, .value(.int(17)), "output classes (or regression targets)"),
        .task("classification"),
    ]

    public static func validate(_ p: Params) throws {
        for k in ["bands", "size", "classes"] where p.int(k) < 1 {
            throw p.error(k, "must be at least 1, got \(p.int(k))")
        }
        for (i, h) in p.ints("hidden").enumerated() where h < 1 {
            throw p.error("hidden", "layer \(i + 1) has \(h) units; every hidden layer needs at least 1")
        }
        guard (0..<1).contains(p.double("dropout")) else { throw p.error("dropout", "must be in [0, 1), got \(p.double("dropout"))") }
    }

    public static func defaultInput(_ p: Params) -> [Int] { [p.int("bands"), p.int("size"), p.int("size")] }

    public static func build(_ p: Params, _ net: Net, input: Value) throws -> Value {
        var x = net.shape(input).rank == 2 ? input : try net.add("flatten", Flatten(), input)
        for (i, h) in p.ints("hidden").enumerated() {
            x = try net.add("fc\(i + 1)", Dense(h), x)
            x = try net.add("relu\(i + 1)", Activation.relu, x)
            if p.double("dropout") > 0 { x = try net.add("drop\(i + 1)", Dropout(Float(p.double("dropout"))), x) }
        }
        return try net.add("head", Dense(p.int("classes"), weightInit: .glorot), x)
    }
}
