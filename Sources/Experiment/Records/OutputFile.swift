#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A file written through its descriptor, without a user-space buffer: each `write` reaches
/// the kernel before it returns, so a killed process leaves every completed write on disk.
public final class OutputFile {
    public let path: String
    private var fd: Int32

    /// `append`: keep what is there and write after it; otherwise start empty.
    public init(path: String, append: Bool) throws {
        self.path = path
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC)
        fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw ReportError(path: path, "cannot open for writing: \(errnoText())") }
    }

    deinit { if fd >= 0 { _ = closeDescriptor(fd) } }

    public var isOpen: Bool { fd >= 0 }

    /// Writes all of `bytes`, retrying short writes and interrupted calls.
    public func write(_ bytes: [UInt8]) throws {
        guard fd >= 0 else { throw ReportError(path: path, "write after close") }
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = writeDescriptor(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ReportError(path: path, "write failed: \(errnoText())")
                }
                done += n
            }
        }
    }

    /// Forces what was written to the disk (at checkpoints, not per line).
    public func sync() throws {
        guard fd >= 0 else { return }
        guard fsync(fd) == 0 else { throw ReportError(path: path, "fsync failed: \(errnoText())") }
    }

    public func close() throws {
        guard fd >= 0 else { return }
        let r = closeDescriptor(fd)
        fd = -1
        guard r == 0 else { throw ReportError(path: path, "close failed: \(errnoText())") }
    }
}

public func errnoText() -> String { String(cString: strerror(errno)) }

// The system calls under names the methods above do not shadow.
private func closeDescriptor(_ fd: Int32) -> Int32 { close(fd) }
private func writeDescriptor(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }
