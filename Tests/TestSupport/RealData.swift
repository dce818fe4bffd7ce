import Foundation

/// Real data that ships in Debian packages (ANCHORS.md), fetched on first use.
public enum RealData {
    /// The real Landsat 7 scene that Debian's r-cran-stars ships (fetched with apt-get
    /// download into a cache dir on first use), or nil with the reason it cannot be had.
    public static func landsatDir() -> (dir: String?, reason: String) {
        let cache = NSTemporaryDirectory() + "rstrain-r-cran-stars"
        let tif = cache + "/x/usr/lib/R/site-library/stars/tif"
        if FileManager.default.fileExists(atPath: tif + "/L7_ETMs.tif") { return (tif, "") }
        guard onPath("apt-get"), onPath("dpkg") else { return (nil, "apt-get/dpkg not available") }
        try? FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let fetch = "cd '\(cache)' && rm -rf x *.deb && apt-get download -qq r-cran-stars && dpkg -x r-cran-stars_*.deb x"
        var r = try? runProcess("sh", ["-c", fetch], timeout: 300)
        if r?.status != 0 {
            // A fresh machine may have no package lists yet.
            _ = try? runProcess("sh", ["-c", "apt-get update -qq"], timeout: 300)
            r = try? runProcess("sh", ["-c", fetch], timeout: 300)
        }
        guard let r, r.status == 0 else {
            return (nil, "apt-get download r-cran-stars failed: \(r?.stderr.suffix(300) ?? "could not run sh")")
        }
        return FileManager.default.fileExists(atPath: tif + "/L7_ETMs.tif") ? (tif, "") : (nil, "r-cran-stars has no tif/L7_ETMs.tif")
    }
}
