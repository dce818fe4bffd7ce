import CGDAL
import Foundation

/// GDAL library facts and process-wide settings.
public enum GDAL {
    /// Registers every driver, once per process.
    static let registered: Void = { GDALAllRegister() }()

    /// "3.6.2".
    public static var version: String {
        _ = registered
        return String(cString: GDALVersionInfo("RELEASE_NAME"))
    }

    /// True if the driver (e.g. "GTiff") is available.
    public static func hasDriver(_ name: String) -> Bool {
        _ = registered
        return GDALGetDriverByName(name) != nil
    }

    /// Size of GDAL's block cache, shared by every open raster in the process.
    public static var cacheBytes: Int {
        get { Int(GDALGetCacheMax64()) }
        set { GDALSetCacheMax64(GIntBig(newValue)) }
    }

    /// Runs `body` with GDAL's messages kept off stderr (this thread only) and the last error
    /// cleared first, so `lastError` afterwards explains a failure inside `body`.
    static func quietly<R>(_ body: () throws -> R) rethrows -> R {
        _ = registered
        CPLPushErrorHandler(CPLQuietErrorHandler)
        defer { CPLPopErrorHandler() }
        CPLErrorReset()
        return try body()
    }

    /// GDAL's last error message on this thread, or a fallback.
    static var lastError: String {
        guard let m = CPLGetLastErrorMsg(), m.pointee != 0 else { return "unknown GDAL error" }
        return String(cString: m)
    }
}

/// Calls `body` with a NULL-terminated C string list (GDAL's `char **` options).
func withCStrings<R>(_ strings: [String], _ body: (UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var ptrs: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    ptrs.append(nil)
    defer { for p in ptrs { free(p) } }
    return ptrs.withUnsafeMutableBufferPointer { body($0.baseAddress!) }
}
