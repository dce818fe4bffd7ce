import Foundation
import TestSupport
import XCTest
@testable import Engine

final class LRScheduleTests: XCTestCase {
    /// Rates are floats rounded once from a double computation: within 1e-7 relative
    /// (under one float ulp) of the exact value.
    private func assertRates(_ s: LRSchedule, _ expected: [Int: Double],
                             file: StaticString = #filePath, line: UInt = #line) {
        for (step, want) in expected.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(Double(s.rate(step: step)), want, accuracy: 1e-7 * abs(want) + 1e-12, "step \(step)",
                           file: file, line: line)
        }
    }

    func testConstantAndStep() {
        assertRates(.constant(lr: 0.03), [0: 0.03, 12345: 0.03])
        // 0.1 · 0.1^⌊step/30⌋
        assertRates(.step(lr: 0.1, every: 30, gamma: 0.1), [0: 0.1, 29: 0.1, 30: 0.01, 59: 0.01, 65: 0.001])
    }

    func testExponentialDecayAsKeras() {
        // Keras ExponentialDecay(0.01, decay_steps=1000, decay_rate=0.9): 0.01 · 0.9^(step/1000)
        //   step 0: 0.01;  1000: 0.009;  2500: 0.01 · 0.9^2.5 = 0.01 · 0.81 · √0.9 = 0.0076843347
        //   staircase floors the exponent: 2500 → 0.01 · 0.9² = 0.0081
        assertRates(.exponentialDecay(initial: 0.01, decaySteps: 1000, decayRate: 0.9, staircase: false),
                    [0: 0.01, 1000: 0.009, 2500: 0.0076843347])
        assertRates(.exponentialDecay(initial: 0.01, decaySteps: 1000, decayRate: 0.9, staircase: true),
                    [0: 0.01, 999: 0.01, 1000: 0.009, 2500: 0.0081])
    }

    func testCosine() {
        // 0.001 + 0.099 · (1 + cos(π·t/100))/2: t 0 → 0.1; 25 → 0.001 + 0.099·0.8535534 = 0.0855018;
        // 50 → 0.0505; 100 → 0.001; past the end it stays at min_lr.
        assertRates(.cosine(lr: 0.1, totalSteps: 100, minLR: 0.001),
                    [0: 0.1, 25: 0.0855017857, 50: 0.0505, 100: 0.001, 150: 0.001])
    }

    func testWarmupRamp() {
        // 4 steps from 0.25·0.1: factor 0.25 + 0.75·step/4 = 0.25, 0.4375, 0.625, 0.8125, then 1.
        assertRates(.warmup(steps: 4, startFactor: 0.25, then: .constant(lr: 0.1)),
                    [0: 0.025, 1: 0.04375, 2: 0.0625, 3: 0.08125, 4: 0.1, 100: 0.1])
        // The wrapped schedule's clock starts after the warm-up: step 10 + k is its step k.
        let w = LRSchedule.warmup(steps: 10, startFactor: 0,
                                  then: .exponentialDecay(initial: 0.01, decaySteps: 1000, decayRate: 0.9, staircase: false))
        assertRates(w, [0: 0, 5: 0.005, 10: 0.01, 1010: 0.009, 2510: 0.0076843347])
        let c = LRSchedule.warmup(steps: 5, startFactor: 0.5, then: .cosine(lr: 0.2, totalSteps: 100, minLR: 0))
        assertRates(c, [0: 0.1, 5: 0.2, 55: 0.1, 105: 0, 500: 0])
        // Zero warm-up steps is the wrapped schedule.
        assertRates(.warmup(steps: 0, startFactor: 0, then: .constant(lr: 0.1)), [0: 0.1])
    }
}
