import TestSupport
import XCTest
@testable import Engine

/// The graph and executor: shape checks at build time, the memory plan, gradient flow into a
/// value with two consumers, accumulation of parameter gradients, and per-layer randomness.
final class GraphTests: XCTestCase {
    func testDuplicateLayerNameIsRefused() throws {
        let g = Graph()
        let x = g.input("x", Shape(2, 3))
        try g.add("a", Activation.relu, x)
        XCTAssertThrowsError(try g.add("a", Activation.tanh, x)) { e in
            XCTAssertEqual(e as? EngineError, .mismatch("duplicate layer name 'a'"))
        }
    }

    func testWrongInputCountNamesTheLayer() throws {
        let g = Graph()
        let x = g.input("x", Shape(2, 3))
        XCTAssertThrowsError(try g.add("act", Activation.relu, [x, x])) { e in
            XCTAssertTrue("\(e)".contains("'act'"), "\(e)")
        }
    }

    /// x feeds relu and sigmoid; both are outputs with upstream gradients g1, g2, so
    /// dx = g1·relu'(x) + g2·σ(x)(1−σ(x)) — the executor must sum both contributions.
    func testGradientsOfAValueWithTwoConsumersAreSummed() throws {
        let g = Graph()
        let x = g.input("x", Shape(1, 3))
        let r = try g.add("r", Activation.relu, x)
        let s = try g.add("s", Activation.sigmoid, x)
        let ex = try g.plan(outputs: [r, s], inputGradients: true)
        let xs: [Float] = [-1, 0.5, 2]
        ex.value(x).copy(from: xs)
        ex.forward(mode: .inference)
        ex.gradient(r)!.copy(from: [1, 2, 3])
        ex.gradient(s)!.copy(from: [10, 10, 10])
        ex.backward(mode: .inference)
        let dx = ex.gradient(x)!.array
        for i in 0..<3 {
            let sg = 1 / (1 + expf(-xs[i]))
            let expected = (xs[i] > 0 ? [1, 2, 3][i] : 0) + 10 * sg * (1 - sg)
            XCTAssertEqual(dx[i], Float(expected), accuracy: 1e-6)
        }
        // A second backward starts from zeroed activation gradients (not 2×).
        ex.backward(mode: .inference)
        XCTAssertEqual(ex.gradient(x)!.array, dx)
    }

    func testMemoryPlanCoversEveryValueOnce() throws {
        let g = Graph()
        let x = g.input("x", Shape(2, 5))        // 10 floats → 16 aligned
        let a = try g.add("a", Activation.relu, x) // 16
        let b = try g.add("b", Activation.tanh, a) // 16
        let ex = try g.plan(outputs: [b])
        XCTAssertEqual(ex.memory.activationFloats, 48)
        XCTAssertEqual(ex.memory.gradientFloats, 32) // no gradient planned for the input
        XCTAssertNil(ex.gradient(x))
        // Distinct, non-overlapping regions.
        let pa = ex.value(a).data, pb = ex.value(b).data, px = ex.value(x).data
        XCTAssertEqual(pa - px, 16)
        XCTAssertEqual(pb - pa, 16)
    }

    func testLayerSeedsDifferPerLayerAndRepeatPerPass() {
        let m = Mode.training(seed: 5)
        XCTAssertEqual(Executor.layerMode(m, 3), Executor.layerMode(m, 3))
        XCTAssertNotEqual(Executor.layerMode(m, 3), Executor.layerMode(m, 4))
        XCTAssertEqual(Executor.layerMode(.inference, 3), .inference)
    }
}

final class ParameterStoreTests: XCTestCase {
    func testNamedViewsShareTheFlatBuffers() throws {
        let s = try ParameterStore(parameters: [("a.weight", TensorSpec("weight", Shape(2, 3), .ones)),
                                                ("a.bias", TensorSpec("bias", Shape(2), .zeros))],
                                   state: [("bn.running_var", TensorSpec("running_var", Shape(4), .ones))])
        XCTAssertEqual(s.count, 8)
        s.initialize(seed: 0)
        XCTAssertEqual(s.value("a.bias")!.data - s.values.base, 6)
        XCTAssertEqual(s.grad("a.bias")!.data - s.grads.base, 6)
        XCTAssertEqual(Array(s.values.buffer), [1, 1, 1, 1, 1, 1, 0, 0])
        XCTAssertEqual(s.stateTensor("bn.running_var")!.array, [1, 1, 1, 1])
        XCTAssertNil(s.value("missing"))
    }

    func testDuplicateNamesAreRefused() {
        XCTAssertThrowsError(try ParameterStore(parameters: [("w", TensorSpec("w", Shape(1), .zeros)),
                                                             ("w", TensorSpec("w", Shape(1), .zeros))], state: []))
    }

    /// Each tensor has its own random stream keyed by its name: adding another tensor before it
    /// leaves its initial values unchanged; a different seed changes them.
    func testInitializationIsStablePerName() throws {
        let spec = TensorSpec("weight", Shape(64), .heUniform(fanIn: 16))
        let one = try ParameterStore(parameters: [("l2.weight", spec)], state: [])
        let two = try ParameterStore(parameters: [("l1.weight", spec), ("l2.weight", spec)], state: [])
        one.initialize(seed: 9); two.initialize(seed: 9)
        XCTAssertEqual(one.value("l2.weight")!.array, two.value("l2.weight")!.array)
        XCTAssertNotEqual(two.value("l1.weight")!.array, two.value("l2.weight")!.array)
        let bound = (6 / Float(16)).squareRoot()
        XCTAssertTrue(one.value("l2.weight")!.array.allSatisfy { abs($0) <= bound })
        let other = try ParameterStore(parameters: [("l2.weight", spec)], state: [])
        other.initialize(seed: 10)
        XCTAssertNotEqual(other.value("l2.weight")!.array, one.value("l2.weight")!.array)
    }
}

final class BLASCoreTests: XCTestCase {
    func testCoreChoiceFromFlags() {
        XCTAssertEqual(BLASCore.preferredCoreType(cpuFlags: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd", "avx2", "fma"]), "SkylakeX")
        XCTAssertEqual(BLASCore.preferredCoreType(cpuFlags: ["avx2", "fma", "avx512f"]), "Haswell")
        XCTAssertNil(BLASCore.preferredCoreType(cpuFlags: ["sse3"]))
    }

    func testThreadsDefaultToOnePerRankWhenRanksShareAHost() {
        XCTAssertEqual(BLASCore.defaultThreads(requested: 3), 3)
        setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "4", 1)
        defer { unsetenv("OMPI_COMM_WORLD_LOCAL_SIZE") }
        XCTAssertEqual(BLASCore.defaultThreads(), 1)
        // A thread count the user (or a batch script) exported wins over the rule.
        let saved = getenv("OPENBLAS_NUM_THREADS").map { String(cString: $0) }
        setenv("OPENBLAS_NUM_THREADS", "6", 1)
        defer { if let saved { setenv("OPENBLAS_NUM_THREADS", saved, 1) } else { unsetenv("OPENBLAS_NUM_THREADS") } }
        XCTAssertEqual(BLASCore.defaultThreads(), 6)
        XCTAssertEqual(BLASCore.defaultThreads(requested: 2), 2)
    }

    /// sgemm wrapper, row-major, with transposes, against a hand-computed product.
    func testSgemmRowMajorWithTransposes() {
        let a: [Float] = [1, 2, 3, 4, 5, 6]        // 2×3
        let b: [Float] = [7, 8, 9, 10, 11, 12]     // 3×2
        var c = [Float](repeating: 1, count: 4)
        BLAS.sgemm(m: 2, n: 2, k: 3, a: a, lda: 3, b: b, ldb: 2, beta: 1, c: &c, ldc: 2)
        XCTAssertEqual(c, [59, 65, 140, 155])       // A·B + 1
        // Aᵀ (stored 3×2 as b) times Bᵀ (stored 2×3 as a): (bᵀ)·(aᵀ) = (a·b)ᵀ
        BLAS.sgemm(transA: true, transB: true, m: 2, n: 2, k: 3, a: b, lda: 2, b: a, ldb: 3, beta: 0, c: &c, ldc: 2)
        XCTAssertEqual(c, [58, 139, 64, 154])
    }
}
