import Distributed
import Foundation
import TestSupport
import XCTest

/// The Communicator in this process: a world of one (the test runner is never under mpirun).
final class CommunicatorTests: XCTestCase {
    var world: Communicator!

    override func setUpWithError() throws {
        let level = try MPIRuntime.initialize(threadLevel: .funneled)
        XCTAssertGreaterThanOrEqual(level, .funneled)
        XCTAssertEqual(try MPIRuntime.initialize(threadLevel: .multiple), level, "second initialize is a no-op")
        XCTAssertTrue(MPIRuntime.isInitialized)
        world = Communicator.world
    }

    func testWorldOfOne() throws {
        XCTAssertEqual(world.size, 1)
        XCTAssertEqual(world.rank, 0)
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, 255)
        XCTAssertEqual(world.hostname, String(cString: name))
        XCTAssertTrue(MPIRuntime.libraryVersion.hasPrefix("Open MPI"), MPIRuntime.libraryVersion)
        try world.barrier()
    }

    func testAllreduceIsIdentityInAWorldOfOne() throws {
        var f: [Float] = [1.5, -2, 0, 3e-8, .greatestFiniteMagnitude]
        let f0 = f
        try f.withUnsafeMutableBufferPointer { try world.allreduceSum($0) }
        XCTAssertEqual(f.map(\.bitPattern), f0.map(\.bitPattern))
        var d: [Double] = [0.1, -7, 1e300]
        try d.withUnsafeMutableBufferPointer { try world.allreduceSum($0) }
        XCTAssertEqual(d, [0.1, -7, 1e300])
        var i: [Int64] = [Int64.max, Int64.min, 42]
        try i.withUnsafeMutableBufferPointer { try world.allreduceSum($0) }
        XCTAssertEqual(i, [Int64.max, Int64.min, 42])
        XCTAssertEqual(try world.allreduce(Int64(9), op: .max), 9)
        XCTAssertEqual(try world.allreduce(-2.5, op: .min), -2.5)
        var empty: [Float] = []
        try empty.withUnsafeMutableBufferPointer { try world.allreduceSum($0) }
    }

    func testIallreduceCompletes() throws {
        var v = (0..<5000).map { Float($0) }
        try v.withUnsafeMutableBufferPointer { buf in
            let req = try world.iallreduceSum(buf)
            try req.wait()
            XCTAssertTrue(req.isComplete)
            XCTAssertTrue(try req.test())
            try req.wait()
        }
        XCTAssertEqual(v, (0..<5000).map { Float($0) })
    }

    func testBroadcastAndGather() throws {
        var v: [Int64] = [3, 1, 4]
        try v.withUnsafeMutableBufferPointer { try world.broadcast($0, root: 0) }
        XCTAssertEqual(v, [3, 1, 4])
        XCTAssertEqual(try world.broadcast(string: "größe", root: 0), "größe")
        XCTAssertEqual(try world.broadcast(bytes: [9, 0, 255], root: 0), [9, 0, 255])
        XCTAssertEqual(try world.allgather(Int64(17)), [17])
        XCTAssertEqual(try world.gather(Int64(-3), root: 0), [-3])
        XCTAssertEqual(try world.allgather(string: "host-a"), ["host-a"])
        XCTAssertEqual(try world.gather(string: "", root: 0), [""])
        XCTAssertEqual(try world.allgather(array: [Float(1), 2]), [[1, 2]])
    }

    func testSendRecvToSelf() throws {
        let data = (0..<1000).map { Float($0) * 0.5 }
        var got = [Float](repeating: 0, count: 1000)
        let info = try data.withUnsafeBufferPointer { s in
            try got.withUnsafeMutableBufferPointer { try world.sendrecv(s, to: 0, sendTag: 4, into: $0, from: 0, recvTag: 4) }
        }
        XCTAssertEqual(info, .init(source: 0, tag: 4, count: 1000))
        XCTAssertEqual(got, data)

        // Non-blocking send to self, then a blocking receive with any source / tag.
        var got2 = [Float](repeating: 0, count: 10)
        let short = Array(data[0..<6])
        let r = try short.withUnsafeBufferPointer { s -> Communicator.Received in
            let req = try world.isend(s, to: 0, tag: 11)
            let r = try got2.withUnsafeMutableBufferPointer { try world.recv($0, from: nil, tag: nil) }
            try req.wait()
            return r
        }
        XCTAssertEqual(r, .init(source: 0, tag: 11, count: 6), "count is what was sent, not the buffer size")
        XCTAssertEqual(Array(got2[0..<6]), short)
    }

    func testSplit() throws {
        let sub = try XCTUnwrap(try world.split(color: 3, key: 0))
        XCTAssertEqual(sub.size, 1)
        XCTAssertEqual(sub.rank, 0)
        var v: [Float] = [2, 3]
        try v.withUnsafeMutableBufferPointer { try sub.allreduceSum($0) }
        XCTAssertEqual(v, [2, 3])
        XCTAssertNil(try world.split(color: nil, key: 0), "no color: no communicator")
        XCTAssertEqual(try world.splitShared().size, 1)
        XCTAssertEqual(try world.duplicate().size, 1)
        XCTAssertThrowsError(try world.split(color: -1, key: 0)) { e in
            XCTAssertTrue("\(e)".contains("MPI_Comm_split"), "\(e)")
        }
    }

    func testErrorsNameTheCall() throws {
        let one: [Float] = [1]
        XCTAssertThrowsError(try one.withUnsafeBufferPointer { try world.send($0, to: 1, tag: 0) }) { e in
            let m = "\(e)"
            XCTAssertTrue(m.contains("MPI_Send") && m.contains("rank 1 out of range"), m)
        }
        // An error detected by MPI itself (returned, not fatal): 10 values into a buffer of 5.
        let ten = [Float](repeating: 1, count: 10)
        var five = [Float](repeating: 0, count: 5)
        try ten.withUnsafeBufferPointer { s in
            let req = try world.isend(s, to: 0, tag: 2)
            XCTAssertThrowsError(try five.withUnsafeMutableBufferPointer { try world.recv($0, from: 0, tag: 2) }) { e in
                guard let e = e as? MPIError else { return XCTFail("not an MPIError: \(e)") }
                XCTAssertTrue(e.call.hasPrefix("MPI_Recv"), e.call)
                XCTAssertGreaterThan(e.code, 0)
                XCTAssertTrue(e.message.lowercased().contains("truncat"), e.message)
            }
            try req.wait()
        }
    }
}
