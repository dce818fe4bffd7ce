import ArgumentParser
import Engine
import Foundation
import Models
import Settings

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "The model builders and their parameters; `models show` summarises one model.",
        subcommands: [ListModels.self, ShowModel.self],
        defaultSubcommand: ListModels.self
    )
}

struct ListModels: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Every builder with its parameters, defaults and meaning.")

    @Flag(help: "One JSON document: builders with their parameters.")
    var json = false

    func run() throws {
        if json {
            let doc: [JSONValue] = ModelZoo.builders.map { b in
                ["arch": .string(b.arch), "summary": .string(b.summary),
                 "parameters": .array(b.parameters.map { p -> JSONValue in
                     var o: JSONObject = ["key": .string(p.key), "type": .string(p.kind.name), "help": .string(p.help)]
                     switch p.defaultValue {
                     case .required: o["required"] = true
                     case .value(let v): o["default"] = v.json
                     case .auto(let how): o["default"] = "auto"; o["auto"] = .string(how)
                     }
                     if case .string(let c) = p.kind, !c.isEmpty { o["choices"] = .array(c.map(JSONValue.string)) }
                     return .object(o)
                 })]
            }
            print(try JSONValue.array(doc).text(pretty: true))
            return
        }
        for b in ModelZoo.builders {
            print("\(b.arch) — \(b.summary)")
            let w = b.parameters.map(\.key.count).max() ?? 0
            for p in b.parameters {
                let key = p.key.padding(toLength: w, withPad: " ", startingAt: 0)
                print("  \(key)  \(p.kind.name), default \(p.defaultText): \(p.help)")
            }
            print("")
        }
        print("Example: {\"arch\": \"unet\", \"dims\": 2, \"filters\": 16, \"levels\": 4, \"bands\": 10, \"classes\": 10}")
    }
}

struct ShowModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "A layer-by-layer summary (output shape, parameters, convolution algorithm) of the model a JSON file describes.")

    @Argument(help: "A JSON file holding one model object, e.g. {\"arch\": \"unet\", \"filters\": 16}.")
    var model: String

    @Option(help: "Per-sample input shape, e.g. 10x256x256 (bands×H×W) or 10x8x64x64 (bands×dates×H×W). Default: the builder's.")
    var input: String?

    @Option(help: "Samples per micro-batch the convolution algorithms are chosen for (some depend on it).")
    var batch = 8

    func validate() throws {
        if let input, parseShape(input) == nil {
            throw ValidationError("--input '\(input)' is not a shape like 10x256x256")
        }
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, got \(batch)") }
    }

    func run() throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: model)) } catch {
            throw ValidationError("cannot read model file \(model): \(error.localizedDescription)")
        }
        let spec = try ModelSpec(data: data, source: model)
        let (builder, params) = (spec.builder, spec.params)
        let m = try ModelZoo.build(builder, params, batch: batch, input: input.flatMap(parseShape))
        print(ModelSummary(m).text)
    }
}

/// "10x256x256" → [10, 256, 256].
func parseShape(_ s: String) -> [Int]? {
    let parts = s.lowercased().split(whereSeparator: { $0 == "x" || $0 == "×" || $0 == "," })
    let dims = parts.compactMap { Int($0) }
    return dims.count == parts.count && !dims.isEmpty && dims.allSatisfy({ $0 > 0 }) ? dims : nil
}
