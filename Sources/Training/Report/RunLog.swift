#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Log lines of one rank. Rank 0 speaks plainly; other ranks' lines carry "[rank r host] ",
/// so mpirun's merged output says who spoke.
public struct RunLog {
    public let rank: Int
    public let host: String

    public init(rank: Int, host: String) {
        self.rank = rank
        self.host = host
    }

    public var prefix: String { rank == 0 ? "" : "[rank \(rank) \(host)] " }

    /// `message` with every line prefixed.
    public func format(_ message: String) -> String {
        guard rank != 0 else { return message }
        return message.split(separator: "\n", omittingEmptySubsequences: false)
            .map { prefix + $0 }.joined(separator: "\n")
    }

    /// Writes the formatted message and a newline to stderr in one write, so lines of ranks
    /// sharing the stream do not interleave mid-line.
    public func emit(_ message: String) {
        let bytes = Array((format(message) + "\n").utf8)
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = write(STDERR_FILENO, raw.baseAddress! + done, raw.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }   // stderr gone: nowhere left to say so
                done += n
            }
        }
    }
}
