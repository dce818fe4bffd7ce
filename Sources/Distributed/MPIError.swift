import CMPI

/// An MPI call that failed: names the call, the rank and MPI's own explanation.
public struct MPIError: Error, CustomStringConvertible, Sendable {
    public let call: String
    /// MPI error code (MPI_SUCCESS = 0 never appears here); -1 for errors detected by rstrain.
    public let code: Int32
    public let message: String

    public init(call: String, code: Int32) {
        self.call = call
        self.code = code
        self.message = MPIError.string(code)
    }

    public init(call: String, message: String) {
        self.call = call
        self.code = -1
        self.message = message
    }

    public var description: String {
        code < 0 ? "\(call): \(message)" : "\(call) failed: \(message) (MPI error \(code))"
    }

    static func string(_ code: Int32) -> String {
        var buf = [CChar](repeating: 0, count: Int(rs_mpi_max_error_string()) + 1)
        var len: Int32 = 0
        guard MPI_Error_string(code, &buf, &len) == MPI_SUCCESS else { return "unknown MPI error" }
        return String(cString: buf)
    }
}

@inline(__always)
func check(_ rc: Int32, _ call: @autoclosure () -> String) throws {
    if rc != MPI_SUCCESS { throw MPIError(call: call(), code: rc) }
}

/// MPI counts are 32-bit: a larger buffer is an error, not a silent truncation.
@inline(__always)
func mpiCount(_ n: Int, _ call: @autoclosure () -> String) throws -> Int32 {
    guard n >= 0, n <= Int(Int32.max) else {
        throw MPIError(call: call(), message: "count \(n) exceeds MPI's 32-bit limit")
    }
    return Int32(n)
}

/// Element types MPI can move and reduce.
public protocol MPIScalar {
    static var mpiDatatype: MPI_Datatype { get }
}

extension Float: MPIScalar { public static var mpiDatatype: MPI_Datatype { rs_mpi_float() } }
extension Double: MPIScalar { public static var mpiDatatype: MPI_Datatype { rs_mpi_double() } }
extension Int32: MPIScalar { public static var mpiDatatype: MPI_Datatype { rs_mpi_int32() } }
extension Int64: MPIScalar { public static var mpiDatatype: MPI_Datatype { rs_mpi_int64() } }
extension UInt8: MPIScalar { public static var mpiDatatype: MPI_Datatype { rs_mpi_byte() } }

/// Reduction operators.
public enum ReduceOp: Sendable {
    case sum, max, min
    var mpi: MPI_Op {
        switch self {
        case .sum: return rs_mpi_sum()
        case .max: return rs_mpi_max()
        case .min: return rs_mpi_min()
        }
    }
}
