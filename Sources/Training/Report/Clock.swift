#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The clocks the report types read by default; each takes an injectable clock instead so
/// tests run on fake time.
public enum ReportClock {
    /// Seconds on a clock that never jumps (CLOCK_MONOTONIC): for rates, ETAs and silences.
    public static func monotonic() -> Double { read(CLOCK_MONOTONIC) }

    /// Seconds since the Unix epoch (CLOCK_REALTIME): comparable across hosts as far as their
    /// clocks are synchronised.
    public static func wall() -> Double { read(CLOCK_REALTIME) }

    private static func read(_ id: clockid_t) -> Double {
        var t = timespec()
        clock_gettime(id, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }
}
