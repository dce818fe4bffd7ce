import CMPI
import Foundation

/// The MPI thread-support levels, weakest first.
public enum ThreadLevel: Int, Comparable, CustomStringConvertible, Sendable {
    case single, funneled, serialized, multiple

    init(mpi value: Int32) {
        switch value {
        case Int32(MPI_THREAD_MULTIPLE): self = .multiple
        case Int32(MPI_THREAD_SERIALIZED): self = .serialized
        case Int32(MPI_THREAD_FUNNELED): self = .funneled
        default: self = .single
        }
    }

    var mpiValue: Int32 {
        switch self {
        case .single: return Int32(MPI_THREAD_SINGLE)
        case .funneled: return Int32(MPI_THREAD_FUNNELED)
        case .serialized: return Int32(MPI_THREAD_SERIALIZED)
        case .multiple: return Int32(MPI_THREAD_MULTIPLE)
        }
    }

    public static func < (a: ThreadLevel, b: ThreadLevel) -> Bool { a.rawValue < b.rawValue }
    public var description: String { ["single", "funneled", "serialized", "multiple"][rawValue] }
}

/// Process-wide MPI state. `initialize` and `finalize` are idempotent; a process started
/// without `mpirun` initialises as a singleton, a world of one.
///
/// MPI cannot be initialised again after `finalize`, so call `finalize` once, at the very end.
/// There is deliberately no `atexit` finalisation: a failing rank that exits without
/// finalising makes `mpirun` stop the whole job, whereas finalising would wait for peers that
/// may be blocked in a collective, and hang.
public enum MPIRuntime {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var provided: ThreadLevel?

    /// Initialises MPI (no-op if already done) and returns the thread level the library
    /// provides, which may be lower than `threadLevel`: callers that need a level check it.
    @discardableResult
    public static func initialize(threadLevel: ThreadLevel = .funneled) throws -> ThreadLevel {
        lock.lock(); defer { lock.unlock() }
        if let p = provided { return p }
        if isFinalized { throw MPIError(call: "MPI_Init_thread", message: "MPI was already finalized in this process") }
        var flag: Int32 = 0
        MPI_Initialized(&flag)
        var level: Int32 = 0
        if flag != 0 {
            MPI_Query_thread(&level)
        } else {
            let rc = MPI_Init_thread(nil, nil, threadLevel.mpiValue, &level)
            if rc != MPI_SUCCESS { throw MPIError(call: "MPI_Init_thread", code: rc) }
        }
        // Errors on the world communicator come back as return codes, which become Swift errors.
        let rc = MPI_Comm_set_errhandler(rs_mpi_comm_world(), rs_mpi_errors_return())
        if rc != MPI_SUCCESS { throw MPIError(call: "MPI_Comm_set_errhandler", code: rc) }
        let p = ThreadLevel(mpi: level)
        provided = p
        return p
    }

    /// Finalises MPI if it was initialised and is not finalised yet. Every communicator
    /// other than the world must be released before.
    public static func finalize() throws {
        lock.lock(); defer { lock.unlock() }
        guard isInitializedRaw, !isFinalized else { return }
        let rc = MPI_Finalize()
        if rc != MPI_SUCCESS { throw MPIError(call: "MPI_Finalize", code: rc) }
    }

    private static var isInitializedRaw: Bool {
        var flag: Int32 = 0
        MPI_Initialized(&flag)
        return flag != 0
    }

    /// True between `initialize` and `finalize`.
    public static var isInitialized: Bool { isInitializedRaw && !isFinalized }

    public static var isFinalized: Bool {
        var flag: Int32 = 0
        MPI_Finalized(&flag)
        return flag != 0
    }

    /// The thread level provided at initialisation (nil before).
    public static var threadLevel: ThreadLevel? {
        lock.lock(); defer { lock.unlock() }
        return provided
    }

    /// True when the process was started by Open MPI's launcher (mpirun / srun with PMIx).
    public static var launchedByLauncher: Bool {
        ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_SIZE"] != nil
    }

    /// "Open MPI v4.1.4" (the part before the first comma). Callable before initialisation.
    public static var libraryVersion: String {
        var buf = [CChar](repeating: 0, count: Int(rs_mpi_max_library_version_string()) + 1)
        var len: Int32 = 0
        MPI_Get_library_version(&buf, &len)
        let s = String(cString: buf)
        return s.split(whereSeparator: { $0 == "," || $0 == "\n" }).first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? s
    }

    /// MPI standard version implemented, e.g. (3, 1).
    public static var standardVersion: (major: Int, minor: Int) {
        var major: Int32 = 0, minor: Int32 = 0
        MPI_Get_version(&major, &minor)
        return (Int(major), Int(minor))
    }

    /// This process's host name as MPI reports it (MPI_Get_processor_name).
    public static var processorName: String {
        var buf = [CChar](repeating: 0, count: Int(rs_mpi_max_processor_name()) + 1)
        var len: Int32 = 0
        if MPI_Get_processor_name(&buf, &len) != MPI_SUCCESS { return ProcessInfo.processInfo.hostName }
        return String(cString: buf)
    }
}
