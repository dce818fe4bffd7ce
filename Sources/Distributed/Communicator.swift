import CMPI
import Foundation

/// An MPI communicator: a group of ranks that talk to each other.
///
/// Every communicator returns MPI errors as codes (MPI_ERRORS_RETURN), turned into `MPIError`s
/// naming the call. Buffers are passed as unsafe buffer pointers so gradients move without
/// copies; all counts are elements, not bytes. Collectives must be called by every rank of the
/// communicator in the same order. Which threads may call depends on the level
/// `MPIRuntime.initialize` obtained (`funneled`: only the thread that initialised MPI).
/// Sub-communicators (split, duplicate) are freed when the last reference goes away.
public final class Communicator: @unchecked Sendable {
    public let handle: MPI_Comm
    /// This process's rank in the communicator, 0..<size.
    public let rank: Int
    public let size: Int
    private let owned: Bool

    init(handle: MPI_Comm, owned: Bool) throws {
        self.handle = handle
        self.owned = owned
        var r: Int32 = 0, s: Int32 = 0
        try check(MPI_Comm_set_errhandler(handle, rs_mpi_errors_return()), "MPI_Comm_set_errhandler")
        try check(MPI_Comm_rank(handle, &r), "MPI_Comm_rank")
        try check(MPI_Comm_size(handle, &s), "MPI_Comm_size")
        rank = Int(r)
        size = Int(s)
    }

    deinit {
        // Freeing after MPI_Finalize is erroneous: a communicator outliving MPI is just dropped.
        if owned, !MPIRuntime.isFinalized {
            var h: MPI_Comm? = handle
            MPI_Comm_free(&h)
        }
    }

    /// All ranks of the job. Initialises MPI (thread level `funneled`) if nobody did yet; call
    /// `MPIRuntime.initialize` first to choose the level.
    public static var world: Communicator { worldInstance }

    private static let worldInstance: Communicator = {
        do {
            try MPIRuntime.initialize()
            return try Communicator(handle: rs_mpi_comm_world(), owned: false)
        } catch {
            fatalError("cannot set up MPI_COMM_WORLD: \(error)")
        }
    }()

    /// Host name of this process (MPI_Get_processor_name).
    public var hostname: String { MPIRuntime.processorName }

    /// Ends every process of the job (MPI_Abort): for fatal errors on one rank, so the others
    /// do not wait forever in a collective.
    public func abort(code: Int32 = 1) -> Never {
        MPI_Abort(handle, code)
        exit(code)
    }

    public func barrier() throws {
        try check(MPI_Barrier(handle), "MPI_Barrier")
    }

    // MARK: Reductions

    /// Element-wise reduction across ranks, in place: afterwards every rank holds the result.
    public func allreduce<T: MPIScalar>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOp) throws {
        let n = try mpiCount(buffer.count, "MPI_Allreduce")
        guard n > 0 else { return }
        try check(MPI_Allreduce(rs_mpi_in_place(), buffer.baseAddress, n, T.mpiDatatype, op.mpi, handle),
                  "MPI_Allreduce(\(buffer.count) × \(T.self))")
    }

    /// Sums `buffer` element-wise across ranks, in place (Float gradients, Double statistics,
    /// Int64 fixed-point sums for exact reduction).
    public func allreduceSum<T: MPIScalar>(_ buffer: UnsafeMutableBufferPointer<T>) throws {
        try allreduce(buffer, op: .sum)
    }

    /// One value reduced across ranks.
    public func allreduce<T: MPIScalar>(_ value: T, op: ReduceOp) throws -> T {
        var v = value
        try withUnsafeMutablePointer(to: &v) { try allreduce(UnsafeMutableBufferPointer(start: $0, count: 1), op: op) }
        return v
    }

    /// Starts an in-place sum; the data is valid only after the returned request's `wait()`.
    /// `buffer` must stay alive and untouched until then.
    public func iallreduceSum<T: MPIScalar>(_ buffer: UnsafeMutableBufferPointer<T>) throws -> Request {
        try iallreduce(buffer, op: .sum)
    }

    public func iallreduce<T: MPIScalar>(_ buffer: UnsafeMutableBufferPointer<T>, op: ReduceOp) throws -> Request {
        let call = "MPI_Iallreduce(\(buffer.count) × \(T.self))"
        let n = try mpiCount(buffer.count, call)
        var req: MPI_Request? = rs_mpi_request_null()
        try check(MPI_Iallreduce(rs_mpi_in_place(), buffer.baseAddress, n, T.mpiDatatype, op.mpi, handle, &req), call)
        return Request(req, call: call)
    }

    // MARK: Broadcast

    /// Copies `root`'s buffer into every rank's buffer (all of the same count).
    public func broadcast<T: MPIScalar>(_ buffer: UnsafeMutableBufferPointer<T>, root: Int) throws {
        let call = "MPI_Bcast(\(buffer.count) × \(T.self), root \(root))"
        try checkRank(root, call)
        let n = try mpiCount(buffer.count, call)
        guard n > 0 else { return }
        try check(MPI_Bcast(buffer.baseAddress, n, T.mpiDatatype, Int32(root), handle), call)
    }

    /// Root's bytes, on every rank; the length need not be known elsewhere (it is sent first).
    public func broadcast(bytes: [UInt8], root: Int) throws -> [UInt8] {
        var count = Int64(bytes.count)
        try withUnsafeMutablePointer(to: &count) { try broadcast(UnsafeMutableBufferPointer(start: $0, count: 1), root: root) }
        var out = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count))
        try out.withUnsafeMutableBufferPointer { try broadcast($0, root: root) }
        return out
    }

    /// Root's string, on every rank.
    public func broadcast(string: String, root: Int) throws -> String {
        String(decoding: try broadcast(bytes: Array(string.utf8), root: root), as: UTF8.self)
    }

    // MARK: Point to point

    /// What a receive got.
    public struct Received: Sendable, Equatable {
        public let source: Int
        public let tag: Int
        /// Elements received (at most the buffer's count).
        public let count: Int
        public init(source: Int, tag: Int, count: Int) {
            self.source = source
            self.tag = tag
            self.count = count
        }
    }

    /// Blocking send (may return before the receiver has the data, once the buffer is reusable).
    public func send<T: MPIScalar>(_ buffer: UnsafeBufferPointer<T>, to dest: Int, tag: Int = 0) throws {
        let call = "MPI_Send(\(buffer.count) × \(T.self) to \(dest), tag \(tag))"
        try checkRank(dest, call)
        let n = try mpiCount(buffer.count, call)
        try check(MPI_Send(buffer.baseAddress, n, T.mpiDatatype, Int32(dest), Int32(tag), handle), call)
    }

    /// Blocking receive into `buffer`; nil source or tag accept any. Receiving more elements than
    /// the buffer holds is an error (MPI_ERR_TRUNCATE).
    @discardableResult
    public func recv<T: MPIScalar>(_ buffer: UnsafeMutableBufferPointer<T>, from source: Int?, tag: Int? = 0) throws -> Received {
        let call = "MPI_Recv(\(buffer.count) × \(T.self) from \(source.map(String.init) ?? "any"), tag \(tag.map(String.init) ?? "any"))"
        if let s = source { try checkRank(s, call) }
        let n = try mpiCount(buffer.count, call)
        var status = MPI_Status()
        try check(MPI_Recv(buffer.baseAddress, n, T.mpiDatatype, Int32(source ?? Int(rs_mpi_any_source())),
                           Int32(tag ?? Int(rs_mpi_any_tag())), handle, &status), call)
        return try received(status, T.self, call)
    }

    /// Blocks until a message from `source` with `tag` can be received, and says how many `T` it
    /// holds (MPI_Probe): a receiver sizes its buffer without knowing the sender's layout.
    public func probe<T: MPIScalar>(_: T.Type, from source: Int, tag: Int = 0) throws -> Received {
        let call = "MPI_Probe(\(T.self) from \(source), tag \(tag))"
        try checkRank(source, call)
        var status = MPI_Status()
        try check(MPI_Probe(Int32(source), Int32(tag), handle, &status), call)
        return try received(status, T.self, call)
    }

    /// Sends and receives in one call (no deadlock whatever the order on the peers): rings, shifts.
    @discardableResult
    public func sendrecv<T: MPIScalar>(_ sendBuffer: UnsafeBufferPointer<T>, to dest: Int, sendTag: Int = 0,
                                       into recvBuffer: UnsafeMutableBufferPointer<T>, from source: Int, recvTag: Int = 0) throws -> Received {
        let call = "MPI_Sendrecv(\(sendBuffer.count) × \(T.self) to \(dest), \(recvBuffer.count) from \(source))"
        try checkRank(dest, call)
        try checkRank(source, call)
        let ns = try mpiCount(sendBuffer.count, call), nr = try mpiCount(recvBuffer.count, call)
        var status = MPI_Status()
        try check(MPI_Sendrecv(sendBuffer.baseAddress, ns, T.mpiDatatype, Int32(dest), Int32(sendTag),
                               recvBuffer.baseAddress, nr, T.mpiDatatype, Int32(source), Int32(recvTag), handle, &status), call)
        return try received(status, T.self, call)
    }

    /// Non-blocking send; `buffer` must stay alive and unchanged until `wait()`.
    public func isend<T: MPIScalar>(_ buffer: UnsafeBufferPointer<T>, to dest: Int, tag: Int = 0) throws -> Request {
        let call = "MPI_Isend(\(buffer.count) × \(T.self) to \(dest), tag \(tag))"
        try checkRank(dest, call)
        let n = try mpiCount(buffer.count, call)
        var req: MPI_Request? = rs_mpi_request_null()
        try check(MPI_Isend(buffer.baseAddress, n, T.mpiDatatype, Int32(dest), Int32(tag), handle, &req), call)
        return Request(req, call: call)
    }

    /// Non-blocking receive; `buffer` must stay alive and untouched until `wait()`.
    public func irecv<T: MPIScalar>(_ buffer: UnsafeMutableBufferPointer<T>, from source: Int, tag: Int = 0) throws -> Request {
        let call = "MPI_Irecv(\(buffer.count) × \(T.self) from \(source), tag \(tag))"
        try checkRank(source, call)
        let n = try mpiCount(buffer.count, call)
        var req: MPI_Request? = rs_mpi_request_null()
        try check(MPI_Irecv(buffer.baseAddress, n, T.mpiDatatype, Int32(source), Int32(tag), handle, &req), call)
        return Request(req, call: call)
    }

    // MARK: Gather

    /// Every rank's value, in rank order, on every rank.
    public func allgather<T: MPIScalar>(_ value: T) throws -> [T] {
        var out = [T](repeating: value, count: size)
        try withUnsafePointer(to: value) { v in try out.withUnsafeMutableBufferPointer { o in
            try check(MPI_Allgather(v, 1, T.mpiDatatype, o.baseAddress, 1, T.mpiDatatype, handle), "MPI_Allgather(\(T.self))")
        } }
        return out
    }

    /// Every rank's value, in rank order, on `root`; nil elsewhere.
    public func gather<T: MPIScalar>(_ value: T, root: Int) throws -> [T]? {
        let call = "MPI_Gather(\(T.self), root \(root))"
        try checkRank(root, call)
        var out = [T](repeating: value, count: rank == root ? size : 1)
        try withUnsafePointer(to: value) { v in try out.withUnsafeMutableBufferPointer { o in
            try check(MPI_Gather(v, 1, T.mpiDatatype, o.baseAddress, 1, T.mpiDatatype, Int32(root), handle), call)
        } }
        return rank == root ? out : nil
    }

    /// Every rank's array (lengths may differ), in rank order, on every rank.
    public func allgather<T: MPIScalar>(array values: [T]) throws -> [[T]] {
        let counts = try allgather(Int64(values.count))
        let (c32, displs, total) = try layout(counts, "MPI_Allgatherv")
        // MPIScalar types are trivial: MPI fills every element before it is read.
        var out = [T](unsafeUninitializedCapacity: max(total, 1)) { _, n in n = total }
        try values.withUnsafeBufferPointer { v in
            try out.withUnsafeMutableBufferPointer { o in
                try check(MPI_Allgatherv(v.baseAddress, Int32(values.count), T.mpiDatatype,
                                         o.baseAddress, c32, displs, T.mpiDatatype, handle), "MPI_Allgatherv(\(T.self))")
            }
        }
        return split(out, displs, c32)
    }

    /// Every rank's array, in rank order, on `root`; nil elsewhere.
    public func gather<T: MPIScalar>(array values: [T], root: Int) throws -> [[T]]? {
        let call = "MPI_Gatherv(\(T.self), root \(root))"
        try checkRank(root, call)
        let counts = try gather(Int64(values.count), root: root)
        let (c32, displs, total) = try layout(counts ?? [], call)
        var out = [T](unsafeUninitializedCapacity: max(total, 1)) { _, n in n = total }
        try values.withUnsafeBufferPointer { v in
            try out.withUnsafeMutableBufferPointer { o in
                try check(MPI_Gatherv(v.baseAddress, Int32(values.count), T.mpiDatatype,
                                      o.baseAddress, c32, displs, T.mpiDatatype, Int32(root), handle), call)
            }
        }
        return rank == root ? split(out, displs, c32) : nil
    }

    /// Every rank's string (host names, reports), in rank order, on every rank.
    public func allgather(string: String) throws -> [String] {
        try allgather(array: Array(string.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Every rank's string, in rank order, on `root`; nil elsewhere.
    public func gather(string: String, root: Int) throws -> [String]? {
        try gather(array: Array(string.utf8), root: root)?.map { String(decoding: $0, as: UTF8.self) }
    }

    // MARK: Sub-communicators

    /// Partitions the ranks by `color` (nil: this rank joins none and gets nil), ordered by
    /// `key` then by rank in this communicator. Collective.
    public func split(color: Int?, key: Int) throws -> Communicator? {
        let call = "MPI_Comm_split(color \(color.map(String.init) ?? "undefined"), key \(key))"
        if let c = color, c < 0 { throw MPIError(call: call, message: "color must be non-negative (nil for none)") }
        var new: MPI_Comm? = rs_mpi_comm_null()
        try check(MPI_Comm_split(handle, Int32(color ?? Int(rs_mpi_undefined())), Int32(key), &new), call)
        guard let h = new, h != rs_mpi_comm_null() else { return nil }
        return try Communicator(handle: h, owned: true)
    }

    /// The ranks of this communicator that share this host (memory), ordered by `key`.
    public func splitShared(key: Int = 0) throws -> Communicator {
        var new: MPI_Comm? = rs_mpi_comm_null()
        try check(MPI_Comm_split_type(handle, rs_mpi_comm_type_shared(), Int32(key), rs_mpi_info_null(), &new),
                  "MPI_Comm_split_type(shared)")
        guard let h = new, h != rs_mpi_comm_null() else {
            throw MPIError(call: "MPI_Comm_split_type(shared)", message: "returned no communicator")
        }
        return try Communicator(handle: h, owned: true)
    }

    /// A copy with its own message space (e.g. for a background all-reduce thread).
    public func duplicate() throws -> Communicator {
        var new: MPI_Comm? = rs_mpi_comm_null()
        try check(MPI_Comm_dup(handle, &new), "MPI_Comm_dup")
        guard let h = new else { throw MPIError(call: "MPI_Comm_dup", message: "returned no communicator") }
        return try Communicator(handle: h, owned: true)
    }

    // MARK: Helpers

    private func checkRank(_ r: Int, _ call: String) throws {
        guard r >= 0, r < size else {
            throw MPIError(call: call, message: "rank \(r) out of range for a communicator of size \(size)")
        }
    }

    private func received<T: MPIScalar>(_ status: MPI_Status, _: T.Type, _ call: String) throws -> Received {
        var st = status, n: Int32 = 0
        try check(MPI_Get_count(&st, T.mpiDatatype, &n), "MPI_Get_count after \(call)")
        return Received(source: Int(st.MPI_SOURCE), tag: Int(st.MPI_TAG), count: Int(n))
    }

    private func layout(_ counts: [Int64], _ call: String) throws -> ([Int32], [Int32], Int) {
        var c32: [Int32] = [], displs: [Int32] = [], total = 0
        for c in counts {
            displs.append(try mpiCount(total, call))
            c32.append(try mpiCount(Int(c), call))
            total += Int(c)
        }
        _ = try mpiCount(total, call)
        return (c32, displs, total)
    }

    private func split<T>(_ flat: [T], _ displs: [Int32], _ counts: [Int32]) -> [[T]] {
        zip(displs, counts).map { d, c in Array(flat[Int(d)..<Int(d) + Int(c)]) }
    }
}
