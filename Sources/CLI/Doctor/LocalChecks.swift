import DataIO
import Engine
import Foundation
import Distributed

/// Checks one rank makes on its own: BLAS computes, GDAL and HDF5 write and read back.
enum LocalChecks {
    /// Scratch files go to `workdir` (default: the temporary directory), in a directory named
    /// after host and pid so ranks sharing the storage never collide.
    static func run(workdir: String?, host: String) -> [DoctorCheck] {
        let base = workdir ?? FileManager.default.temporaryDirectory.path
        let dir = (base as NSString).appendingPathComponent("rstrain-doctor-\(host)-\(getpid())")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let made = (try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)) != nil
        return [
            blasKernels(),
            DoctorCheck.run("blas.sgemm", sgemm),
            DoctorCheck("gdal.gtiff", ok: GDAL.hasDriver("GTiff"), "GDAL \(GDAL.version), GTiff driver \(GDAL.hasDriver("GTiff") ? "present" : "MISSING")"),
            DoctorCheck("workdir", ok: made, made ? "writable: \(dir)" : "cannot create \(dir)"),
            DoctorCheck.run("gdal.geotiff-roundtrip") { try geotiff(dir) },
            DoctorCheck.run("hdf5.roundtrip") { try hdf5(dir) },
        ]
    }

    /// Fails when OpenBLAS runs slower kernels than the CPU supports and nobody chose that.
    static func blasKernels() -> DoctorCheck {
        let core = BLAS.coreName
        guard let want = BLASCore.preferredCoreType() else {
            return DoctorCheck("blas.kernels", ok: !core.isEmpty, "\(core): OpenBLAS's own choice")
        }
        let userSet = ProcessInfo.processInfo.environment[BLASCore.variable] != nil
            && ProcessInfo.processInfo.environment["RSTRAIN_BLAS_REEXEC"] == nil
        let ok = core.lowercased() == want.lowercased() || userSet
        return DoctorCheck("blas.kernels", ok: ok,
                           ok ? "\(core) (\(BLASCore.origin))" : "\(core) kernels, but this CPU supports \(want): set \(BLASCore.variable)=\(want)")
    }

    static func sgemm() -> (ok: Bool, detail: String) {
        // [1 2 3; 4 5 6] · [7 8; 9 10; 11 12] = [58 64; 139 154]
        let a: [Float] = [1, 2, 3, 4, 5, 6], b: [Float] = [7, 8, 9, 10, 11, 12]
        var c = [Float](repeating: -1, count: 4)
        BLAS.sgemm(m: 2, n: 2, k: 3, a: a, lda: 3, b: b, ldb: 2, beta: 0, c: &c, ldc: 2)
        return (c == [58, 64, 139, 154], "2×3 · 3×2 = \(c)")
    }

    static func geotiff(_ dir: String) throws -> (ok: Bool, detail: String) {
        let path = dir + "/check.tif"
        let (w, h, c) = (40, 24, 2)
        let data = (0..<(w * h * c)).map { Float($0 % 97) * 0.5 }
        let gt = [500_000.0, 10, 0, 4_600_000, 0, -10]
        try GeoTIFF.write(path, width: w, height: h, bands: c, data: data, geoTransform: gt,
                          projection: "EPSG:32633", noData: -9999, tileSize: 16)
        let r = try Raster(path)
        let back: [Float] = try r.read(x: 0, y: 0, width: w, height: h)
        let noData = try r.noData(band: 2)
        let ok = back == data && r.geoTransform == gt && r.epsg == 32633 && noData == -9999
        return (ok, ok ? "tiled DEFLATE GeoTIFF written and read back" : "GeoTIFF read back differs")
    }

    static func hdf5(_ dir: String) throws -> (ok: Bool, detail: String) {
        let path = dir + "/check.h5"
        let data = (0..<600).map { Float($0) / 3 }
        try HDF5File.writeAtomically(path) { f in
            try f.writeDataset("group/x", shape: [20, 30], data, gzipLevel: 4)
            try f.setAttribute("n", Int64(600), on: "group/x")
        }
        let f = try HDF5File(path)
        let ok = try f.readFloats("group/x") == data && f.int64Attribute("n", on: "group/x") == 600
            && f.readFloats("group/x", rows: 5..<7) == Array(data[150..<210])
        return (ok, "HDF5 \(HDF5File.libraryVersion)" + (ok ? ": gzip dataset written atomically and read back" : ": read back differs"))
    }
}
