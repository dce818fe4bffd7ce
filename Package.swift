// swift-tools-version:5.9
// rstrain: distributed data-parallel trainer for land-cover deep learning.
// One module per role: C shims (CMPI, COpenBLAS, CGDAL, CHDF5), Engine (tensors, ops, losses,
// optimizers), Models (the model zoo), DataIO (GDAL / HDF5 I/O), Distributed (MPI), Training (config, schedule,
// exact reduction, checkpoints, the trainer), CLI (the `rstrain` executable); Settings (JSON: the one way configs,
// model specs and records are read and written; Foundation only).
import PackageDescription

let package = Package(
    name: "rstrain",
    products: [
        .executable(name: "rstrain", targets: ["rstrain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Thin C shims: each wraps macros Swift cannot import as static inline functions.
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CGDAL", path: "Sources/CGDAL", pkgConfig: "gdal",
                       providers: [.apt(["libgdal-dev", "gdal-bin"])]),
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5", pkgConfig: "hdf5-serial",
                       providers: [.apt(["libhdf5-dev"])]),

        .target(name: "Settings", path: "Sources/Settings"),
        .target(name: "Engine", dependencies: ["COpenBLAS"], path: "Sources/Engine",
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "Models", dependencies: ["Engine", "Settings"], path: "Sources/Models"),
        // The five benchmark workloads of shared/bench/WORKLOADS.md (`rstrain bench workload`).
        .target(name: "Benchmarks", path: "Sources/Benchmarks"),
        .target(name: "DataIO", dependencies: ["Engine", "CGDAL", "CHDF5"], path: "Sources/DataIO"),
        .target(name: "Distributed", dependencies: ["Engine", "CMPI"], path: "Sources/Distributed"),
        // What every mode of a run shares: its config, placement and schedule, shards, model replicas,
        // checkpoint and weights files, metric records.
        .target(name: "Experiment", dependencies: ["Engine", "Settings", "Models", "DataIO", "Distributed"], path: "Sources/Experiment"),
        .target(name: "Forest", dependencies: ["Engine", "DataIO", "Distributed", "Experiment"], path: "Sources/Forest"),
        .target(name: "Training", dependencies: ["Engine", "Models", "DataIO", "Distributed", "Experiment", "Forest"],
                path: "Sources/Training"),
        .target(name: "Prediction", dependencies: ["Engine", "Models", "DataIO", "Distributed", "Experiment", "Forest"],
                path: "Sources/Prediction"),
        .target(name: "Evaluation", dependencies: ["Engine", "DataIO", "Distributed", "Experiment", "Forest"],
                path: "Sources/Evaluation"),
        .executableTarget(name: "rstrain",
                          dependencies: ["Engine", "Settings", "Models", "Benchmarks", "DataIO", "Distributed", "Experiment", "Forest", "Training",
                                         "Prediction", "Evaluation",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Sources/CLI"),

        // Shared by the test targets: the gradient checker, process helpers (rstrain, mpirun,
        // gdalinfo, python3).
        .target(name: "TestSupport", dependencies: ["Engine", "DataIO"], path: "Tests/TestSupport"),
        .testTarget(name: "SettingsTests", dependencies: ["Settings"], path: "Tests/SettingsTests"),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "TestSupport"], path: "Tests/EngineTests"),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Benchmarks", "Settings", "DataIO", "TestSupport"], path: "Tests/ModelsTests"),
        .testTarget(name: "DataIOTests", dependencies: ["DataIO", "TestSupport"], path: "Tests/DataIOTests"),
        .testTarget(name: "DistributedTests", dependencies: ["Engine", "Distributed", "TestSupport"], path: "Tests/DistributedTests"),
        .testTarget(name: "ExperimentTests", dependencies: ["Settings", "Engine", "DataIO", "Distributed", "Experiment", "TestSupport"],
                    path: "Tests/ExperimentTests"),
        .testTarget(name: "ForestTests", dependencies: ["Engine", "DataIO", "Experiment", "Forest", "TestSupport"], path: "Tests/ForestTests"),
        .testTarget(name: "PredictionTests", dependencies: ["Engine", "Models", "DataIO", "Distributed", "Experiment", "Prediction", "TestSupport"],
                    path: "Tests/PredictionTests"),
        .testTarget(name: "EvaluationTests", dependencies: ["Engine", "DataIO", "Experiment", "Evaluation", "TestSupport"],
                    path: "Tests/EvaluationTests"),
        .testTarget(name: "TrainingTests", dependencies: ["Settings", "Engine", "DataIO", "Distributed", "Experiment", "Forest", "Training",
                                                           "Prediction", "TestSupport"],
                    path: "Tests/TrainingTests"),
        .testTarget(name: "CLITests", dependencies: ["Engine", "TestSupport"], path: "Tests/CLITests"),
    ]
)
