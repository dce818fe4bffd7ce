import Benchmarks
import Engine
import Foundation
import Models

/// Training throughput of a benchmark workload, as the PyTorch reference measures it:
/// forward + softmax cross-entropy + backward + Adam (lr 1e-3) on random inputs and random
/// integer labels, two warm-up steps, then at least `seconds` of steps.
enum WorkloadBench {
    /// - profile: also time every layer (thread CPU time on one BLAS thread, wall time on
    ///   several) and print the most expensive layers after the figures.
    static func run(_ w: Workload, seconds: Double, report: BenchReport, profile: Bool = false, top: Int = 25) throws {
        let model = try ModelZoo.build(w.spec, batch: w.batch, input: w.input)
        let ex = try model.plan()
        ex.parameters.initialize(seed: 0)
        let adam = try Adam(for: ex.parameters)
        var rng = SplitMix64(seed: 1)
        let x = ex.value(model.input)
        for i in 0..<x.count { x.data[i] = rng.normal() }
        let out = model.outputShape
        let classes = out[1]
        // Labels: one per sample (scene) or per output pixel (dense).
        let labels = HostLabelTensor(Shape([out[0]] + out.spatial))
        for i in 0..<labels.shape.count { labels.data[i] = Int32(rng.next() % UInt64(classes)) }
        let loss = SoftmaxCrossEntropy()
        let logits = ex.value(model.output), dLogits = ex.gradient(model.output)!
        let prof = profile ? ExecutorProfile(clock: BLAS.threads == 1 ? .thread : .wall) : nil
        ex.profile = prof
        @inline(__always) func timed<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
            if let prof { return try prof.measure(name, body) }
            return try body()
        }
        var step: UInt64 = 0
        func trainStep() throws {
            ex.forward(mode: .training(seed: step))
            _ = try timed("loss") { try loss.compute(logits: logits, target: .hard(labels.labels), gradient: dLogits) }
            timed("parameters.zero_grads") { ex.parameters.zeroGrads() }
            ex.backward(mode: .training(seed: step))
            try timed("optimizer (adam)") { try adam.update(ex.parameters, learningRate: 1e-3) }
            step += 1
        }
        try trainStep(); try trainStep()
        prof?.reset()
        var steps = 0
        // Fastest step on this thread's CPU clock: steadier than wall time on a busy machine
        // (exact for one BLAS thread; blind to BLAS worker threads).
        var bestCPU = Double.infinity
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        repeat {
            let c0 = threadCPUSeconds()
            try trainStep()
            bestCPU = min(bestCPU, threadCPUSeconds() - c0)
            steps += 1
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        } while elapsed < seconds
        let sps = Double(steps * w.batch) / elapsed
        report.emit([("workload", w.name), ("params", model.parameterCount), ("reference_params", w.referenceParams),
                     ("batch", w.batch), ("samples_per_s", sps), ("gflops", sps * w.gflopPerSample),
                     ("threads", BLAS.threads), ("blas_core", BLAS.coreName),
                     ("best_step_cpu_ms", bestCPU * 1000), ("cpu_samples_per_s", Double(w.batch) / bestCPU),
                     ("peak_rss_mb", Double(peakRSSBytes()) / 1_048_576), ("memory_plan_mb", Double(ex.memory.totalBytes) / 1_048_576)])
        if let prof {
            print(prof.report(top: top, steps: steps))
            fflush(stdout)
        }
    }

    /// CPU seconds of the calling thread.
    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Peak resident set size of this process (getrusage; Linux reports kilobytes).
    static func peakRSSBytes() -> Int {
        var u = rusage()
        getrusage(RUSAGE_SELF.rawValue, &u)
        return u.ru_maxrss * 1024
    }
}
