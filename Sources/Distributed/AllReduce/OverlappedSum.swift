import Engine
import Foundation

/// The fast mode's gradient all-reduce, overlapped with the backward pass (as PyTorch DDP):
/// the flat gradient buffer is cut into buckets from its end (where the last layers' gradients
/// are, which backward finishes first); a bucket's MPI_Iallreduce starts as soon as every node
/// that writes into it is done, and the pending ones are driven forward between nodes. The
/// buckets and their order are fixed by the graph, the same on every rank.
public final class OverlappedSum {
    public struct Bucket {
        let range: Range<Int>
        /// The lowest node writing into it: the bucket is final once backward has done that node.
        let readyAfter: Int
    }

    public let buckets: [Bucket]
    private var next = 0
    private var pending: [Request] = []
    private(set) var exposedSeconds = 0.0

    /// `bucketFloats`: bucket size (the first, nearest the output, is an eighth of it so the
    /// reduction starts early).
    public init(executor ex: Executor, bucketFloats: Int = 1 << 20) {
        let n = ex.parameters.count
        var bounds: [Int] = [n]
        var size = max(bucketFloats / 8, 1)
        while bounds.last! > 0 {
            bounds.append(max(bounds.last! - size, 0))
            size = bucketFloats
        }
        let ranges = (0..<ex.nodeCount).compactMap { k in ex.gradientRange(ofNode: k).map { (k, $0) } }
        buckets = zip(bounds.dropFirst(), bounds).map { lo, hi in
            let r = lo..<hi
            let touching = ranges.filter { $0.1.overlaps(r) }.map(\.0)
            return Bucket(range: r, readyAfter: touching.min() ?? 0)
        }
    }

    public func begin() {
        next = 0
        pending = []
        exposedSeconds = 0
    }

    /// After backward finished node k: starts the buckets that became final, drives the others.
    public func nodeDone(_ k: Int, grads: FloatBuffer, comm: Communicator) throws {
        while next < buckets.count, buckets[next].readyAfter >= k {
            let r = buckets[next].range
            pending.append(try comm.iallreduce(UnsafeMutableBufferPointer(start: grads.base + r.lowerBound, count: r.count), op: .sum))
            next += 1
        }
        for p in pending where !p.isComplete { _ = try p.test() }
    }

    /// Starts what is left and waits for everything.
    public func finish(grads: FloatBuffer, comm: Communicator) throws {
        let t0 = Date().timeIntervalSince1970
        try nodeDone(-1, grads: grads, comm: comm)
        try Request.waitAll(pending)
        pending = []
        exposedSeconds += Date().timeIntervalSince1970 - t0
    }
}
