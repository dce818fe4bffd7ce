import Engine
import Foundation
import XCTest

/// Scratch directories for tests, all made here: one per test (`ScratchTestCase.dir`), more
/// within a test (`scratch()`), or one per process for fixtures that several tests share
/// (`Scratch.shared`).
public enum Scratch {
    /// A new empty directory, <temp>/rstrain-<tag>-<pid>-<random>. The caller removes it (the
    /// helpers below do).
    public static func make(_ tag: String) throws -> String {
        let d = NSTemporaryDirectory() + "rstrain-\(tag)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// A new directory for a fixture made once per process and shared by several tests or
    /// classes: removed when the whole test bundle has run, not after one test.
    public static func shared(_ tag: String) throws -> String {
        let d = try make(tag)
        BundleCleanup.remove(d)
        return d
    }
}

/// A test case with a fresh scratch directory per test (`dir`), removed after it.
open class ScratchTestCase: XCTestCase {
    public var dir: String!

    open override func setUpWithError() throws {
        try super.setUpWithError()
        dir = try Scratch.make(String(describing: type(of: self)).lowercased())
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
        let d = try Scratch.make("scratch")
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }
}

/// Removes the shared scratch directories once the whole test bundle has run.
private final class BundleCleanup: NSObject, XCTestObservation {
    nonisolated(unsafe) private static var shared: BundleCleanup?
    private static let lock = NSLock()
    private var dirs: [String] = []

    static func remove(_ dir: String) {
        lock.lock()
        defer { lock.unlock() }
        if shared == nil {
            shared = BundleCleanup()
            XCTestObservationCenter.shared.addTestObserver(shared!)
        }
        shared!.dirs.append(dir)
    }

    func testBundleDidFinish(_ testBundle: Bundle) {
        for d in dirs { try? FileManager.default.removeItem(atPath: d) }
    }
}

/// A named parameter spec with a normal initializer, for stores built by hand in tests.
public func namedSpec(_ name: String, _ dims: [Int]) -> (name: String, spec: TensorSpec) {
    (name, TensorSpec(name, Shape(dims), .normal(std: 1)))
}
