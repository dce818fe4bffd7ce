import Engine
import Foundation
import XCTest

/// A test case with a fresh scratch directory per test (`dir`), removed after it.
open class ScratchTestCase: XCTestCase {
    public var dir: String!

    open override func setUpWithError() throws {
        try super.setUpWithError()
        let name = String(describing: type(of: self)).lowercased()
        dir = NSTemporaryDirectory() + "rstrain-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    open override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
        try super.tearDownWithError()
    }
}

extension XCTestCase {
    /// A fresh scratch directory, removed when the test ends (for test cases that need several,
    /// or are not `ScratchTestCase`s).
    public func scratch() throws -> String {
        let d = NSTemporaryDirectory() + "rstrain-scratch-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }
}

/// A named parameter spec with a normal initializer, for stores built by hand in tests.
public func namedSpec(_ name: String, _ dims: [Int]) -> (name: String, spec: TensorSpec) {
    (name, TensorSpec(name, Shape(dims), .normal(std: 1)))
}
