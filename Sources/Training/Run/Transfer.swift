import Distributed
import Engine
import Foundation
import Experiment

/// Moves models between groups: the holding group's leader (lowest rank) sends weights,
/// running statistics and optimizer state point to point to the new group's leader, which
/// broadcasts them inside its group. Tiles never move.
struct Transfer {
    struct Move {
        let model: Int
        /// Ranks that hold the current state (their lowest sends).
        let from: [Int]
        /// Ranks that must hold it afterwards.
        let to: [Int]
    }
    static let tagBase = 1000

    /// Performs `moves` (in model order on every rank). `replica(m)` gives this rank's replica of
    /// model m (built on first use); `group` is this rank's group communicator (exactly the ranks
    /// of the `to` of the moves that include it), needed when a `to` has several ranks.
    /// Returns, for each model this rank received, the seconds from the start of the exchange
    /// until its data was here (the point-to-point receive; in a group, the broadcast too).
    @discardableResult
    static func run(_ moves: [Move], world: Communicator, group: Communicator?,
                    replica: (Int) throws -> ModelReplica, watchdog: Watchdog, hosts: [String]) throws -> [Int: Double] {
        let me = world.rank
        var received: [Int: Double] = [:]
        var buffers: [Int: UnsafeMutableBufferPointer<Float>] = [:]
        var sends: [(Request, UnsafeMutableBufferPointer<Float>)] = []
        defer {
            for (_, b) in sends { b.deallocate() }
            for b in buffers.values { b.deallocate() }
        }
        // MPI moves data only while a rank is inside an MPI call: building a replica (seconds for
        // ResNet-50) between posting a send and waiting for it stalls the send, and the rank
        // waiting for it (measured across hosts: a 10 MB move then took as long as a 189 MB one).
        // So every message is posted and completed first, receive buffers sized by probing, and
        // replicas this rank has never held are built only after.
        for mv in moves where mv.from.min() == me && mv.to.min() != me && mv.from != mv.to {
            let r = try replica(mv.model)
            let buf = UnsafeMutableBufferPointer<Float>.allocate(capacity: r.packedCount + 2)
            let step = r.pack(into: buf)
            (buf[buf.count - 2], buf[buf.count - 1]) = Self.encode(step)
            sends.append((try world.isend(UnsafeBufferPointer(buf), to: mv.to.min()!, tag: tagBase + mv.model), buf))
        }
        let t0 = Date().timeIntervalSince1970
        let incoming = moves.filter { $0.to.contains(me) && $0.from != $0.to }
        var receives: [(model: Int, name: String, request: Request)] = []
        for mv in incoming where mv.to.min() == me && mv.from.min() != me {
            let from = mv.from.min()!, name = "model \(mv.model) from rank \(from) (\(hosts[from]))"
            let n = try watchdog.watch(name) { try world.probe(Float.self, from: from, tag: tagBase + mv.model).count }
            let buf = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
            buffers[mv.model] = buf
            receives.append((mv.model, name, try world.irecv(buf, from: from, tag: tagBase + mv.model)))
        }
        for (m, name, req) in receives {
            try watchdog.watch(name) { try req.wait() }
            received[m] = Date().timeIntervalSince1970 - t0
        }
        let receivers = Set(moves.filter { $0.from.min() == me && $0.to.min() != me && $0.from != $0.to }.map { $0.to.min()! }).sorted()
        try watchdog.watch("models to be received by rank\(receivers.count == 1 ? "" : "s") \(receivers.map { "\($0) (\(hosts[$0]))" }.joined(separator: ", "))") {
            try Request.waitAll(sends.map(\.0))
        }
        for mv in incoming {
            let r = try replica(mv.model), leader = mv.to.min()!
            if buffers[mv.model] == nil { buffers[mv.model] = .allocate(capacity: r.packedCount + 2) }
            let buf = buffers[mv.model]!
            guard buf.count == r.packedCount + 2 else {
                throw TransferError(message: "model \(r.config.name) arrived with \(buf.count) values but this rank's replica packs \(r.packedCount + 2)")
            }
            if me == leader, mv.from.min() == me {
                let step = r.pack(into: buf)
                (buf[buf.count - 2], buf[buf.count - 1]) = Self.encode(step)
            }
            if mv.to.count > 1 {
                guard let comm = group else { preconditionFailure("a move to several ranks needs their group communicator") }
                let root = mv.to.sorted().firstIndex(of: leader)!
                try watchdog.watch("model \(r.config.name) from the group's leader, rank \(leader) (\(hosts[leader]))") { try comm.broadcast(buf, root: root) }
            }
            if me != leader || mv.from.min() != me {
                r.unpack(UnsafeBufferPointer(rebasing: buf[0..<(buf.count - 2)]), step: Self.decode(buf[buf.count - 2], buf[buf.count - 1]))
            }
            // Until the model's state is here (its receive; with a group, the broadcast too).
            if mv.to.count > 1 || received[mv.model] == nil { received[mv.model] = Date().timeIntervalSince1970 - t0 }
        }
        return received
    }

    /// The optimizer's step count as two floats' bit patterns.
    static func encode(_ step: Int) -> (Float, Float) {
        let v = UInt64(step)
        return (Float(bitPattern: UInt32(truncatingIfNeeded: v)), Float(bitPattern: UInt32(truncatingIfNeeded: v >> 32)))
    }

    static func decode(_ lo: Float, _ hi: Float) -> Int {
        Int(UInt64(lo.bitPattern) | UInt64(hi.bitPattern) << 32)
    }
}

/// A model arrived in a shape this rank's replica cannot take (the ranks disagree on its spec).
struct TransferError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
