/// The five benchmark workloads of ../shared/bench/WORKLOADS.md: the same architectures as the
/// PyTorch reference (`torch_bench.py`), proven by equal parameter counts.
public struct Workload: Sendable {
    public let name: String
    /// The model spec, as a user would write it.
    public let spec: [String: any Sendable]
    public let batch: Int
    /// Per-sample input shape.
    public let input: [Int]
    /// The PyTorch reference's parameter count.
    public let referenceParams: Int
    /// Training GFLOP per sample (forward + backward), from the reference's flop counter.
    public let gflopPerSample: Double

    public static let all: [Workload] = [
        Workload(name: "tempcnn",
                 spec: ["arch": "tempcnn", "bands": 10, "dates": 24, "classes": 10, "filters": 64, "kernel": 5,
                        "blocks": 3, "dense": 256, "dropout": 0.5],
                 batch: 512, input: [10, 24], referenceParams: 441_290, gflopPerSample: 0.009),
        Workload(name: "so2sat_resnet50",
                 spec: ["arch": "resnet", "variant": "so2sat", "depth": 50, "bands": 10, "classes": 17],
                 batch: 32, input: [10, 32, 32], referenceParams: 23_553_297, gflopPerSample: 1.478),
        Workload(name: "unet2d_64",
                 spec: ["arch": "unet", "dims": 2, "filters": 16, "levels": 3, "bands": 10, "classes": 10],
                 batch: 16, input: [10, 64, 64], referenceParams: 484_602, gflopPerSample: 0.886),
        Workload(name: "unet2d_256",
                 spec: ["arch": "unet", "dims": 2, "filters": 16, "levels": 4, "bands": 10, "classes": 10],
                 batch: 4, input: [10, 256, 256], referenceParams: 1_945_210, gflopPerSample: 18.459),
        Workload(name: "unet3d_t8_64",
                 spec: ["arch": "unet", "dims": 3, "filters": 8, "levels": 2, "bands": 10, "classes": 10],
                 batch: 2, input: [10, 8, 64, 64], referenceParams: 87_362, gflopPerSample: 2.587),
    ]

    public static func named(_ name: String) -> Workload? { all.first { $0.name == name } }
}
