import Benchmarks
import ArgumentParser
import Engine
import Foundation
import Models

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure sgemm and conv kernels (GFLOP/s), workloads (samples/s), the data loader (windows/s).",
        discussion: "Benchmarks, not tests: run them side by side with the peer on the same machine."
    )

    @Argument(help: "What to measure: sgemm, conv, reduce, data, or workload NAME (\(Workload.all.map(\.name).joined(separator: ", ")), or all).")
    var kernel: String

    @Argument(help: "The workload name, after `workload`.")
    var name: String?

    @Option(help: "BLAS threads (default: every core, or 1 per rank when ranks share a host).")
    var threads: Int?

    @Option(help: "Minimum seconds of measurement per case (default 2; 8 for workloads, as the PyTorch reference).")
    var seconds: Double?

    @Flag(help: "One JSON object per line.")
    var json = false

    @Flag(help: "bench workload: also time every layer (forward, backward, GFLOP/s) and print the most expensive ones.")
    var profile = false

    @Option(help: "Rows of the --profile table.")
    var top: Int = 25

    @OptionGroup(title: "bench reduce (under mpirun)") var reduceOptions: ReduceBenchOptions

    @OptionGroup(title: "bench data") var dataOptions: DataBenchOptions

    func validate() throws {
        guard ["sgemm", "conv", "workload", "reduce", "data"].contains(kernel) else {
            throw ValidationError("unknown benchmark '\(kernel)': expected sgemm, conv, reduce, data or workload NAME")
        }
        if kernel == "workload" {
            guard let name else { throw ValidationError("bench workload needs a NAME: \(Workload.all.map(\.name).joined(separator: ", ")), or all") }
            guard name == "all" || Workload.named(name) != nil else {
                throw ValidationError("unknown workload '\(name)': expected \(Workload.all.map(\.name).joined(separator: ", ")), or all")
            }
        } else if name != nil {
            throw ValidationError("only `bench workload` takes a name")
        } else if profile {
            throw ValidationError("--profile applies to `bench workload` only")
        }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        if kernel == "reduce" { return try ReduceBench.run(reduceOptions, seconds: seconds ?? 2, json: json) }
        if kernel == "data" { return try DataBench.run(dataOptions, seconds: seconds ?? 2, json: json) }
        BLAS.threads = BLASCore.defaultThreads(requested: threads)
        let report = BenchReport(json: json)
        if !json { print("BLAS core: \(BLASCore.summary)") }
        switch kernel {
        case "sgemm": SgemmBench.run(seconds: seconds ?? 2, report: report)
        case "conv": try ConvBench.run(seconds: seconds ?? 2, report: report)
        default:
            let list = name == "all" ? Workload.all : [Workload.named(name!)!]
            for w in list { try WorkloadBench.run(w, seconds: seconds ?? 8, report: report, profile: profile, top: top) }
        }
    }
}

/// Prints results as a table row or as one JSON object per line.
struct BenchReport {
    let json: Bool

    func emit(_ fields: [(String, Any)]) {
        if json {
            let body = fields.map { k, v -> String in
                switch v {
                case let s as String: return "\"\(k)\": \"\(s)\""
                case let d as Double: return "\"\(k)\": \(String(format: "%.3f", d))"
                default: return "\"\(k)\": \(v)"
                }
            }.joined(separator: ", ")
            print("{\(body)}")
        } else {
            print(fields.map { k, v in
                if let d = v as? Double { return "\(k)=\(String(format: "%.2f", d))" }
                return "\(k)=\(v)"
            }.joined(separator: "  "))
        }
        fflush(stdout)
    }
}

/// Repeats `body` until at least `seconds` have passed (after one warm-up call); returns
/// seconds per call.
func timePerCall(seconds: Double, _ body: () -> Void) -> Double {
    body()
    var calls = 0
    let start = DispatchTime.now().uptimeNanoseconds
    var elapsed = 0.0
    repeat {
        body()
        calls += 1
        elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
    } while elapsed < seconds
    return elapsed / Double(calls)
}
