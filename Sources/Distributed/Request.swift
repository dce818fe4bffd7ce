import CMPI

/// A pending non-blocking operation (MPI_Request). Its buffers must stay alive and untouched
/// until `wait()` returns (or `test()` returns true).
public final class Request: @unchecked Sendable {
    private var handle: MPI_Request?
    /// The call that started it, for error messages.
    public let call: String
    public private(set) var isComplete = false

    init(_ handle: MPI_Request?, call: String) {
        self.handle = handle
        self.call = call
    }

    /// Blocks until the operation has completed. Calling it again does nothing.
    public func wait() throws {
        guard !isComplete else { return }
        isComplete = true
        try check(MPI_Wait(&handle, rs_mpi_status_ignore()), "MPI_Wait for \(call)")
    }

    /// True once the operation has completed (then `wait()` returns at once).
    public func test() throws -> Bool {
        guard !isComplete else { return true }
        var flag: Int32 = 0
        try check(MPI_Test(&handle, &flag, rs_mpi_status_ignore()), "MPI_Test for \(call)")
        if flag != 0 { isComplete = true }
        return isComplete
    }

    /// Waits for all; throws the first failure after waiting for the rest.
    public static func waitAll(_ requests: [Request]) throws {
        var first: Error?
        for r in requests {
            do { try r.wait() } catch { if first == nil { first = error } }
        }
        if let first { throw first }
    }

    deinit {
        // Never let MPI write into buffers after their owner moved on: a dropped pending
        // request is completed here.
        if !isComplete, !MPIRuntime.isFinalized { MPI_Wait(&handle, rs_mpi_status_ignore()) }
    }
}
