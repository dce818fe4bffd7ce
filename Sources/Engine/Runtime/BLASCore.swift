import Foundation

/// Makes sure OpenBLAS runs its fastest kernels on this CPU with no action from the user.
///
/// Debian's OpenBLAS 0.3.21 does not recognise recent AVX-512 CPUs and falls back to
/// "Prescott" (SSE3) kernels, about 5× slower. It reads `OPENBLAS_CORETYPE` only while the
/// library loads — before `main` — so setting it later does nothing. The executable therefore
/// calls `ensureFastKernels()` first thing: if the variable is unset and the CPU's flags call
/// for better kernels than the loaded ones, it sets the variable and re-executes itself
/// (same pid, same arguments, so it is safe under `mpirun` before `MPI_Init`). A value the
/// user already set is always respected.
public enum BLASCore {
    public static let variable = "OPENBLAS_CORETYPE"
    static let guardVariable = "RSTRAIN_BLAS_REEXEC"

    /// The OpenBLAS core type this CPU's flags support best, or nil if nothing beats detection.
    public static func preferredCoreType(cpuFlags: Set<String>? = nil) -> String? {
        let flags = cpuFlags ?? readCPUFlags()
        if ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].allSatisfy(flags.contains) { return "SkylakeX" }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return "Haswell" }
        return nil
    }

    /// Flags of the first CPU in /proc/cpuinfo (empty where there is none).
    public static func readCPUFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
        for line in text.split(separator: "\n") where line.hasPrefix("flags") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
        }
        return []
    }

    /// Where the core choice came from, for logs.
    public static var origin: String {
        let env = ProcessInfo.processInfo.environment
        if env[guardVariable] != nil { return "chosen by rstrain from CPU flags" }
        if env[variable] != nil { return "set by the user (\(variable))" }
        return "OpenBLAS's own detection"
    }

    /// Re-executes the process with `OPENBLAS_CORETYPE` set when that gives faster kernels.
    /// Returns normally when nothing needs doing (or exec fails: the run goes on, slower).
    public static func ensureFastKernels() {
        let env = ProcessInfo.processInfo.environment
        guard env[variable] == nil, env[guardVariable] == nil,
              let want = preferredCoreType(),
              BLAS.coreName.lowercased() != want.lowercased() else { return }
        setenv(variable, want, 1)
        setenv(guardVariable, "1", 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // exec failed: carry on with the detected kernels.
        unsetenv(variable)
    }

    /// One line for run logs and benchmarks: "SkylakeX (chosen by rstrain from CPU flags), 1 thread".
    public static var summary: String {
        "\(BLAS.coreName) (\(origin)), \(BLAS.threads) thread\(BLAS.threads == 1 ? "" : "s")"
    }

    /// BLAS threads for one process: `requested` if given; else `OPENBLAS_NUM_THREADS` if the user
    /// (or a batch script: cores per task) set it; else 1 when several ranks share this host (Open
    /// MPI's local size), else every core.
    public static func defaultThreads(requested: Int? = nil) -> Int {
        if let r = requested, r > 0 { return r }
        let env = ProcessInfo.processInfo.environment
        if let n = env["OPENBLAS_NUM_THREADS"].flatMap(Int.init), n > 0 { return n }
        if let local = env["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap(Int.init), local > 1 { return 1 }
        return ProcessInfo.processInfo.activeProcessorCount
    }
}
