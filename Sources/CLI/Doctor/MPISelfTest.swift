import Distributed
import Foundation

/// `rstrain doctor --selftest`: exercises every Communicator operation across the ranks with
/// values whose results are known exactly. Every rank runs every step in the same order (a
/// failed step still takes part in the collectives that follow).
enum MPISelfTest {
    static func run(_ comm: Communicator) -> [DoctorCheck] {
        let n = comm.size, r = comm.rank
        var out: [DoctorCheck] = []
        // A barrier closes every step, so no message of one step can be matched by a
        // wildcard receive of another.
        func step(_ name: String, _ body: () throws -> (ok: Bool, detail: String)) {
            var check = DoctorCheck.run("selftest." + name, body)
            do { try comm.barrier() } catch {
                check.ok = false
                check.detail += "; barrier after the step failed: \(error)"
            }
            out.append(check)
        }
        let len = 1000

        step("allreduce-float") {
            // Small integers times (rank + 1): every partial sum is exact in float32.
            var v = (0..<len).map { Float(r + 1) * Float($0 % 7) }
            try v.withUnsafeMutableBufferPointer { try comm.allreduceSum($0) }
            let s = Float(n * (n + 1) / 2)
            let bad = (0..<len).first { v[$0] != s * Float($0 % 7) }
            return (bad == nil, bad.map { "element \($0) is \(v[$0]), expected \(s * Float($0 % 7))" } ?? "\(len) floats summed over \(n) ranks")
        }
        step("allreduce-double") {
            var v = [Double](repeating: Double(r) + 0.5, count: len)
            try v.withUnsafeMutableBufferPointer { try comm.allreduceSum($0) }
            let want = Double(n * (n - 1) / 2) + 0.5 * Double(n)
            return (v.allSatisfy { $0 == want }, "every element \(v[0]), expected \(want)")
        }
        step("allreduce-int64") {
            // Beyond 2^53, where a float sum would round: fixed-point sums must be exact.
            var v = (0..<len).map { (Int64(r + 1) << 54) + Int64($0) }
            try v.withUnsafeMutableBufferPointer { try comm.allreduceSum($0) }
            let base = Int64(n * (n + 1) / 2) << 54
            let bad = (0..<len).first { v[$0] != base + Int64(n * $0) }
            return (bad == nil, bad.map { "element \($0) is \(v[$0]), expected \(base + Int64(n * $0))" } ?? "\(len) int64 summed exactly")
        }
        step("allreduce-max-min") {
            let mx = try comm.allreduce(Int64(r * 10), op: .max), mn = try comm.allreduce(Double(r) - 1, op: .min)
            return (mx == Int64((n - 1) * 10) && mn == -1, "max \(mx), min \(mn)")
        }
        step("iallreduce") {
            var v = (0..<len).map { Float(r) + Float($0) }
            let ok: Bool = try v.withUnsafeMutableBufferPointer { buf in
                let req = try comm.iallreduceSum(buf)
                var polls = 0
                while try !req.test() { polls += 1; if polls > 100 { try req.wait() } }
                try req.wait()
                return (0..<len).allSatisfy { buf[$0] == Float(n * (n - 1) / 2) + Float(n * $0) }
            }
            return (ok, ok ? "non-blocking sum completed" : "wrong sum: element 1 is \(v[1])")
        }
        step("broadcast-float") {
            let root = n - 1
            var v = [Float](repeating: -1, count: len)
            if r == root { for i in 0..<len { v[i] = Float(i) * 0.25 } }
            try v.withUnsafeMutableBufferPointer { try comm.broadcast($0, root: root) }
            return (v.enumerated().allSatisfy { $1 == Float($0) * 0.25 }, "from root \(root)")
        }
        step("broadcast-int64-bytes") {
            var v: [Int64] = r == 0 ? [Int64.max, -7, 1 << 40] : [0, 0, 0]
            try v.withUnsafeMutableBufferPointer { try comm.broadcast($0, root: 0) }
            let s = try comm.broadcast(string: r == 0 ? "héllo from rank 0" : "", root: 0)
            let b = try comm.broadcast(bytes: r == 0 ? [0, 255, 7] : [], root: 0)
            return (v == [Int64.max, -7, 1 << 40] && s == "héllo from rank 0" && b == [0, 255, 7], "\(v), \"\(s)\", \(b)")
        }
        step("sendrecv-ring") {
            // 100k floats: above the eager limit, so the rendezvous path is used too.
            let big = 100_000
            let next = (r + 1) % n, prev = (r + n - 1) % n
            let mine = (0..<big).map { Float(r * 1_000_000 + $0) }
            var got = [Float](repeating: -1, count: big)
            let info = try mine.withUnsafeBufferPointer { s in
                try got.withUnsafeMutableBufferPointer { try comm.sendrecv(s, to: next, sendTag: 5, into: $0, from: prev, recvTag: 5) }
            }
            let ok = info == .init(source: prev, tag: 5, count: big) && got.enumerated().allSatisfy { $1 == Float(prev * 1_000_000 + $0) }
            return (ok, "\(big) floats from rank \(prev), got source \(info.source) count \(info.count)")
        }
        step("send-recv") {
            // Rank 0 sends to rank 1 (or to itself in a world of one, non-blocking), tag 7.
            let data = (0..<300).map { Float($0) * 1.5 }
            var got = [Float](repeating: 0, count: 300)
            let dest = n > 1 ? 1 : 0
            if r == 0 && dest != 0 {
                try data.withUnsafeBufferPointer { try comm.send($0, to: dest, tag: 7) }
                return (true, "sent 300 floats to rank 1")
            } else if r == dest {
                let pending = n == 1 ? try data.withUnsafeBufferPointer { try comm.isend($0, to: 0, tag: 7) } : nil
                let info = try got.withUnsafeMutableBufferPointer { try comm.recv($0, from: nil, tag: nil) }
                try pending?.wait()
                return (got == data && info == .init(source: 0, tag: 7, count: 300), "received \(info.count) from rank \(info.source), tag \(info.tag)")
            }
            return (true, "not involved")
        }
        step("isend-irecv-reverse-ring") {
            let to = (r + n - 1) % n, from = (r + 1) % n
            let mine = [Int64](repeating: Int64(r), count: 10)
            var got = [Int64](repeating: -1, count: 10)
            try mine.withUnsafeBufferPointer { s in
                try got.withUnsafeMutableBufferPointer { g in
                    let rq = try comm.irecv(g, from: from, tag: 3)
                    let sq = try comm.isend(s, to: to, tag: 3)
                    try Request.waitAll([sq, rq])
                }
            }
            return (got.allSatisfy { $0 == Int64(from) }, "got \(got[0]) from rank \(from)")
        }
        step("gather-allgather") {
            let sq = try comm.allgather(Int64(r * r))
            let g = try comm.gather(Int64(r + 100), root: 0)
            let arrays = try comm.allgather(array: [Int64](repeating: Int64(r), count: r + 1))
            let names = try comm.gather(string: "rank \(r)", root: 0)
            var ok = sq == (0..<n).map { Int64($0 * $0) }
                && arrays == (0..<n).map { [Int64](repeating: Int64($0), count: $0 + 1) }
            if r == 0 {
                ok = ok && g == (0..<n).map { Int64($0 + 100) } && names == (0..<n).map { "rank \($0)" }
            } else {
                ok = ok && g == nil && names == nil
            }
            return (ok, "allgather \(sq), arrays of lengths \(arrays.map(\.count))")
        }
        step("split") {
            // Parity groups ordered by descending rank; the last rank (when n > 3) joins none.
            let out = n > 3 && r == n - 1
            let sub = try comm.split(color: out ? nil : r % 2, key: -r)
            if out { return (sub == nil, sub == nil ? "rank \(r) joined no group" : "expected no group") }
            guard let sub else { return (false, "no communicator returned") }
            let members = (0..<n).filter { $0 % 2 == r % 2 && !(n > 3 && $0 == n - 1) }.sorted(by: >)
            let sum = try sub.allreduce(Int64(r), op: .sum)
            let ok = sub.size == members.count && sub.rank == members.firstIndex(of: r)!
                && sum == Int64(members.reduce(0, +))
            return (ok, "group of \(sub.size), rank \(sub.rank) there, sum \(sum)")
        }
        step("errors") {
            // MPI's own error (message truncated) comes back as an MPIError naming the call.
            var truncated = false
            let src = 0, dst = n > 1 ? 1 : 0
            let ten = [Float](repeating: 1, count: 10)
            var five = [Float](repeating: 0, count: 5)
            var pending: Request?
            if r == src { pending = try ten.withUnsafeBufferPointer { try comm.isend($0, to: dst, tag: 9) } }
            if r == dst {
                do {
                    try five.withUnsafeMutableBufferPointer { _ = try comm.recv($0, from: src, tag: 9) }
                } catch let e as MPIError {
                    truncated = e.call.hasPrefix("MPI_Recv") && e.code > 0
                }
            }
            try pending?.wait()
            var outOfRange = false
            do { try comm.barrier(); _ = try comm.broadcast(string: "", root: n) } catch let e as MPIError {
                outOfRange = e.call.hasPrefix("MPI_Bcast") && e.description.contains("out of range")
            }
            let ok = (r == dst ? truncated : true) && outOfRange
            return (ok, "truncation reported: \(r == dst ? String(truncated) : "n/a"), bad root reported: \(outOfRange)")
        }
        return out
    }
}
