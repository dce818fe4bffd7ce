/// Helpers shared by the test targets that run processes (rstrain, mpirun, gdalinfo, python3).
import Foundation

/// Output of a finished child process.
public struct ProcessResult {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `executable` with `arguments` (PATH looked up via /usr/bin/env), killing it after
/// `timeout` seconds so a hung child fails the test instead of hanging the suite.
/// MPI variables of this process (a singleton MPI may have set some) are not passed on.
public func runProcess(_ executable: String, _ arguments: [String], environment extra: [String: String] = [:],
                timeout: TimeInterval = 120) throws -> ProcessResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [executable] + arguments
    var env = ProcessInfo.processInfo.environment.filter { k, _ in
        !k.hasPrefix("OMPI_") && !k.hasPrefix("PMIX_") && !k.hasPrefix("OPAL_")
    }
    env.merge(extra) { $1 }
    p.environment = env
    // stderr goes to a file and stdout is read to the end before waiting, so a chatty child
    // never blocks on a full pipe.
    let errPath = NSTemporaryDirectory() + "rstrain-test-stderr-\(UUID().uuidString)"
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: errPath) }
    let out = Pipe()
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let killer = DispatchWorkItem { if p.isRunning { p.terminate() } }
    DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    killer.cancel()
    try err.close()
    let errData = FileManager.default.contents(atPath: errPath) ?? Data()
    return ProcessResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// True if `name` is found on PATH.
public func onPath(_ name: String) -> Bool {
    (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
        FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
    }
}

/// The `rstrain` executable built next to this test bundle (.build/<triple>/<config>/rstrain).
public func rstrainBinary() throws -> String {
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    var candidates = [exe.deletingLastPathComponent().appendingPathComponent("rstrain").path]
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("rstrain").path)
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw TestSetupError("rstrain binary not found (looked at \(candidates)); build it with `swift build` first")
    }
    return found
}

public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
