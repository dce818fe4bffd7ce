import Distributed
import Engine
import Foundation

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
    /// until it was in place (the point-to-point receive and the group's broadcast).
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
        let incoming = moves.filter { $0.to.contains(me) && $0.from != $0.to }
        for mv in incoming { buffers[mv.model] = .allocate(capacity: try replica(mv.model).packedCount + 2) }
        // Receives are posted before any send: a rank that sends a large model while it receives a
        // small one must not queue the small one's rendezvous reply behind the large one's data
        // (measured across hosts: a 10 MB move then took as long as a 189 MB one, docs/scaling.md).
        var receives: [Int: Request] = [:]
        for mv in incoming where mv.to.min() == me && mv.from.min() != me {
            receives[mv.model] = try world.irecv(buffers[mv.model]!, from: mv.from.min()!, tag: tagBase + mv.model)
        }
        // Then every outgoing send, so no order of receives can deadlock.
        for mv in moves where mv.from.min() == me && mv.to.min() != me && mv.from != mv.to {
            let r = try replica(mv.model)
            let buf = UnsafeMutableBufferPointer<Float>.allocate(capacity: r.packedCount + 2)
            let step = r.pack(into: buf)
            (buf[buf.count - 2], buf[buf.count - 1]) = Self.encode(step)
            sends.append((try world.isend(UnsafeBufferPointer(buf), to: mv.to.min()!, tag: tagBase + mv.model), buf))
        }
        let t0 = Date().timeIntervalSince1970
        for mv in incoming {
            let r = try replica(mv.model), buf = buffers[mv.model]!
            let leader = mv.to.min()!
            if me == leader {
                if mv.from.min() == me {
                    let step = r.pack(into: buf)
                    (buf[buf.count - 2], buf[buf.count - 1]) = Self.encode(step)
                } else {
                    try watchdog.watch("model \(r.config.name) from rank \(mv.from.min()!) (\(hosts[mv.from.min()!]))") {
                        try receives[mv.model]!.wait()
                    }
                }
            }
            if mv.to.count > 1 {
                guard let comm = group else { preconditionFailure("a move to several ranks needs their group communicator") }
                let root = mv.to.sorted().firstIndex(of: leader)!
                try watchdog.watch("model \(r.config.name) from the group's leader, rank \(leader) (\(hosts[leader]))") { try comm.broadcast(buf, root: root) }
            }
            if me != leader || mv.from.min() != me {
                r.unpack(UnsafeBufferPointer(rebasing: buf[0..<(buf.count - 2)]), step: Self.decode(buf[buf.count - 2], buf[buf.count - 1]))
            }
            // From the start of the exchange until the model is in place on this rank.
            received[mv.model] = Date().timeIntervalSince1970 - t0
        }
        try watchdog.watch("models to be received by their next group") { try Request.waitAll(sends.map(\.0)) }
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
