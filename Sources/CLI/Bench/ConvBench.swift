import Engine

enum ConvBench {
    static func run(seconds: Double, report: BenchReport) throws {
        throw EngineError.mismatch("conv benchmark: not built yet")
    }
}
