import XCTest
@testable import Engine
@testable import Models

final class UNetTests: XCTestCase {
    /// The benchmark's reference U-Nets (../shared/bench/torch_bench.py) have these exact
    /// PyTorch parameter counts; equal counts mean the same architecture.
    func testParameterCountsMatchThePyTorchReference() throws {
        let u64 = try ModelZoo.build(["arch": "unet", "filters": 16, "levels": 3, "bands": 10, "classes": 10], input: [10, 64, 64])
        XCTAssertEqual(u64.parameterCount, 484_602)
        let u256 = try ModelZoo.build(["arch": "unet", "filters": 16, "levels": 4, "bands": 10, "classes": 10], input: [10, 256, 256])
        XCTAssertEqual(u256.parameterCount, 1_945_210)
        let u3 = try ModelZoo.build(["arch": "unet", "dims": 3, "filters": 8, "levels": 2, "bands": 10, "classes": 10], input: [10, 8, 64, 64])
        XCTAssertEqual(u3.parameterCount, 87_362)
        XCTAssertEqual(u3.outputShape, Shape(1, 10, 64, 64))
    }
}
