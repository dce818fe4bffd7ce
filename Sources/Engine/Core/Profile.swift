#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Floating-point operations of one layer call (multiply and add count as two), for
/// profiles' GFLOP/s. Backward is split so the executor can leave out the input-gradient
/// part where no input gradient is needed (the first layer).
public struct LayerFlops: Sendable, Equatable {
    public var forward: Double
    /// Parameter gradients (dW, db).
    public var backwardParams: Double
    /// Input gradients (dX), all inputs together.
    public var backwardInputs: Double
    public init(forward: Double = 0, backwardParams: Double = 0, backwardInputs: Double = 0) {
        self.forward = forward
        self.backwardParams = backwardParams
        self.backwardInputs = backwardInputs
    }
    public static let zero = LayerFlops()
}

/// Time per layer, accumulated over passes: set `executor.profile = ExecutorProfile()`,
/// run steps, print `report()`. Off (nil) by default; when off the executor does not read a
/// clock. Each layer call is timed on its own, so the cost is two clock reads per call.
///
/// Clock: `.thread` is the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID): steady on a
/// busy machine, and exact for one BLAS thread, but blind to BLAS worker threads. `.wall` is
/// elapsed time (CLOCK_MONOTONIC), right for several threads on an otherwise idle machine.
public final class ExecutorProfile {
    public enum Clock: String, Sendable { case thread = "thread CPU", wall = "wall" }

    public struct Entry {
        public let name: String
        public let kind: String
        /// The algorithm planned for the layer ("winograd"), where it has a choice.
        public let algorithm: String?
        public let inputs: [Shape]
        public let output: Shape
        public let flops: LayerFlops
        /// Whether backward computes input gradients (flops.backwardInputs counts).
        public let inputGradients: Bool
        public internal(set) var forwardSeconds = 0.0
        public internal(set) var backwardSeconds = 0.0
        public internal(set) var forwardCalls = 0
        public internal(set) var backwardCalls = 0

        public var backwardFlops: Double { flops.backwardParams + (inputGradients ? flops.backwardInputs : 0) }
        public var seconds: Double { forwardSeconds + backwardSeconds }
    }

    public let clock: Clock
    /// One entry per graph node (filled when attached to an executor), then extras.
    public internal(set) var entries: [Entry] = []
    /// Work outside the layers, by name ("executor.zero_gradients", "loss", "optimizer").
    public private(set) var extras: [(name: String, seconds: Double, calls: Int)] = []

    public init(clock: Clock = .thread) { self.clock = clock }

    /// Seconds on this profile's clock.
    @inline(__always)
    public func now() -> Double {
        var ts = timespec()
        clock_gettime(clock == .thread ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Adds the time of `body` to the extra entry `name`.
    @discardableResult
    public func measure<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let t0 = now()
        let r = try body()
        add(name, seconds: now() - t0)
        return r
    }

    func add(_ name: String, seconds: Double) {
        if let i = extras.firstIndex(where: { $0.name == name }) {
            extras[i].seconds += seconds
            extras[i].calls += 1
        } else {
            extras.append((name, seconds, 1))
        }
    }

    /// Clears the accumulated times (after warm-up steps), keeping the layer list.
    public func reset() {
        for i in entries.indices {
            entries[i].forwardSeconds = 0; entries[i].backwardSeconds = 0
            entries[i].forwardCalls = 0; entries[i].backwardCalls = 0
        }
        extras.removeAll()
    }

    /// Total seconds over layers and extras.
    public var totalSeconds: Double { entries.reduce(0) { $0 + $1.seconds } + extras.reduce(0) { $0 + $1.seconds } }

    /// A table of the `top` most expensive layers and extras (time per step = per `steps`),
    /// then the totals by layer kind.
    public func report(top: Int = 25, steps: Int) -> String {
        let st = Double(max(steps, 1))
        let total = totalSeconds
        func ms(_ s: Double) -> String { pad(String(format: "%.2f", s / st * 1000), 9) }
        func pct(_ s: Double) -> String { pad(String(format: "%.1f", total > 0 ? 100 * s / total : 0), 6) }
        func gf(_ f: Double, _ s: Double, _ calls: Int) -> String {
            f > 0 && s > 0 ? pad(String(format: "%.1f", f * Double(calls) / s * 1e-9), 8) : pad("", 8)
        }
        // The columns before the times: layer, kind, algorithm, shapes.
        func names(_ name: String, _ kind: String = "", _ algorithm: String = "", _ shapes: String = "") -> String {
            pad(name, 22, left: true) + " " + pad(kind, 17, left: true) + " " + pad(algorithm, 14, left: true) + " " + pad(shapes, 34, left: true)
        }
        var lines: [String] = []
        lines.append("profile: \(clock.rawValue) time per step over \(steps) step(s), \(String(format: "%.1f", total / st * 1000)) ms per step")
        lines.append(names("layer", "kind", "algorithm", "input → output")
                     + pad("fwd ms", 9) + pad("bwd ms", 9) + pad("%", 6) + pad("fwd GF/s", 9) + pad("bwd GF/s", 9))
        var rows: [(String, Double)] = entries.map { e in
            let shapes = e.inputs.map(\.description).joined(separator: " + ") + " → " + e.output.description
            let line = names(e.name, e.kind, e.algorithm ?? "", shapes) + ms(e.forwardSeconds) + ms(e.backwardSeconds) + pct(e.seconds)
                + " " + gf(e.flops.forward, e.forwardSeconds, e.forwardCalls)
                + " " + gf(e.backwardFlops, e.backwardSeconds, e.backwardCalls)
            return (line, e.seconds)
        }
        rows += extras.map { x in (names(x.name) + ms(x.seconds) + pad("", 9) + pct(x.seconds), x.seconds) }
        rows.sort { $0.1 > $1.1 }
        lines += rows.prefix(top).map(\.0)
        if rows.count > top { lines.append("… \(rows.count - top) more") }

        // By kind.
        var kinds: [String: (f: Double, b: Double, ff: Double, bf: Double)] = [:]
        var order: [String] = []
        for e in entries {
            if kinds[e.kind] == nil { order.append(e.kind); kinds[e.kind] = (0, 0, 0, 0) }
            kinds[e.kind]!.f += e.forwardSeconds
            kinds[e.kind]!.b += e.backwardSeconds
            kinds[e.kind]!.ff += e.flops.forward * Double(e.forwardCalls)
            kinds[e.kind]!.bf += e.backwardFlops * Double(e.backwardCalls)
        }
        order.sort { kinds[$0]!.f + kinds[$0]!.b > kinds[$1]!.f + kinds[$1]!.b }
        lines.append("by kind:")
        for k in order {
            let v = kinds[k]!
            func g(_ f: Double, _ s: Double) -> String { f > 0 && s > 0 ? pad(String(format: "%.1f", f / s * 1e-9), 8) : pad("", 8) }
            lines.append(names(k) + ms(v.f) + ms(v.b) + pct(v.f + v.b) + " " + g(v.ff, v.f) + " " + g(v.bf, v.b))
        }
        return lines.joined(separator: "\n")
    }

    private func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
        let c = s.count
        if c >= n { return left ? s : " " + s }
        let fill = String(repeating: " ", count: n - c)
        return left ? s + fill : fill + s
    }
}
