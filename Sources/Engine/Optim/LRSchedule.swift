#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Learning-rate schedules. `rate(step:)` takes the number of optimizer steps already taken
/// (0 for the first update). Values are computed in double and rounded once to float.
/// The run config's schedule settings are read (and checked) in Training's LRScheduleSetting.swift.
public indirect enum LRSchedule: Sendable, Equatable {
    /// lr at every step.
    case constant(lr: Float)
    /// PyTorch StepLR: lr · gamma^⌊step / every⌋.
    case step(lr: Float, every: Int, gamma: Float)
    /// Keras ExponentialDecay: initial · decayRate^(step / decaySteps), the exponent floored
    /// when `staircase`.
    case exponentialDecay(initial: Float, decaySteps: Int, decayRate: Float, staircase: Bool)
    /// Cosine annealing from lr (step 0) to minLR (step totalSteps), minLR afterwards:
    /// minLR + (lr − minLR)·(1 + cos(π·step/totalSteps))/2.
    case cosine(lr: Float, totalSteps: Int, minLR: Float)
    /// Linear warm-up over `steps` steps from startFactor·r0 to r0, r0 = the wrapped schedule's
    /// first rate; the wrapped schedule then runs from its own step 0 (its clock starts after
    /// the warm-up, as PyTorch's SequentialLR): rate(step) = wrapped.rate(step − steps).
    case warmup(steps: Int, startFactor: Float, then: LRSchedule)

    public func rate(step: Int) -> Float { Float(exactRate(step: max(step, 0))) }

    private func exactRate(step: Int) -> Double {
        switch self {
        case let .constant(lr):
            return Double(lr)
        case let .step(lr, every, gamma):
            return Double(lr) * pow(Double(gamma), Double(step / max(every, 1)))
        case let .exponentialDecay(initial, decaySteps, decayRate, staircase):
            var p = Double(step) / Double(max(decaySteps, 1))
            if staircase { p.round(.down) }
            return Double(initial) * pow(Double(decayRate), p)
        case let .cosine(lr, totalSteps, minLR):
            let t = Double(min(step, totalSteps)) / Double(max(totalSteps, 1))
            return Double(minLR) + (Double(lr) - Double(minLR)) * (1 + cos(Double.pi * t)) / 2
        case let .warmup(steps, startFactor, then):
            guard step < steps else { return then.exactRate(step: step - steps) }
            let f = Double(startFactor) + (1 - Double(startFactor)) * Double(step) / Double(steps)
            return then.exactRate(step: 0) * f
        }
    }
}
