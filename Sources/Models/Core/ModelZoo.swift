import Engine
import Foundation

/// Every model builder, and building a model from its JSON spec.
public enum ModelZoo {
    public static let builders: [any ModelBuilder.Type] = [
        UNet.self,
        ResNet.self, DenseNet.self,
        TempCNN.self, PixelTwoBranch.self, MLP.self, DeepVel.self,
        SegNet.self, FCN.self, DeepLab.self,
    ]

    public static var archs: [String] { builders.map { $0.arch } }

    public static func builder(_ arch: String) -> (any ModelBuilder.Type)? {
        builders.first { $0.arch == arch }
    }

    /// Builds the model a JSON spec describes, for `batch` samples of `input` (per sample,
    /// C×…; the builder's default when nil). Errors name the JSON key or the layer at fault.
    public static func build(_ json: [String: Any], batch: Int = 1, input: [Int]? = nil) throws -> Model {
        try ModelSpec(json).build(batch: batch, input: input)
    }

    public static func build(_ builder: any ModelBuilder.Type, _ params: Params, batch: Int = 1, input: [Int]? = nil) throws -> Model {
        guard batch >= 1 else { throw params.error("batch", "must be at least 1, got \(batch)") }
        let sample = input ?? builder.defaultInput(params)
        if params.has("bands"), sample.first != params.int("bands") {
            throw params.error("bands", "is \(params.int("bands")) but the input has \(sample.first ?? 0) channels (input \(sample.map(String.init).joined(separator: "×")))")
        }
        let net = Net()
        let x = net.graph.input("input", Shape([batch] + sample))
        let y = try builder.build(params, net, input: x)
        return Model(arch: builder.arch, params: params, graph: net.graph, input: x, output: y, task: builder.task(params))
    }
}
