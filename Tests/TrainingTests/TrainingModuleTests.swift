import XCTest
@testable import Training

final class TrainingModuleTests: XCTestCase {
    func testModuleLinks() { XCTAssertEqual(String(describing: Training.self), "Training") }
}
