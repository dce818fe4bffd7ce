import Foundation

/// Sensor-independent band names (`blue`, `green`, `red`, `nir`, `swir1`, …) and the band each
/// sensor's products give them, so that one config (and one weights file) names bands for every
/// sensor: a model trained on Landsat 5 reads the same wavelengths from Landsat 8 or Sentinel-2.
/// Band numbers are the sensors' own: Sentinel-2 MSI, Landsat 8–9 OLI, and Landsat 4–5 TM and 7
/// ETM+, which number the visible bands one lower than OLI.
public enum CommonBandNames {
    public enum Family: String, Sendable {
        case sentinel2 = "Sentinel-2 MSI", landsatOLI = "Landsat 8-9 OLI", landsatTM = "Landsat 4-7 TM/ETM+"
    }

    static let table: [Family: [String: String]] = [
        .sentinel2: ["coastal": "B01", "blue": "B02", "green": "B03", "red": "B04", "rededge1": "B05", "rededge2": "B06",
                     "rededge3": "B07", "nir": "B08", "nir08": "B8A", "nir09": "B09", "swir1": "B11", "swir2": "B12"],
        .landsatOLI: ["coastal": "B1", "blue": "B2", "green": "B3", "red": "B4", "nir": "B5", "swir1": "B6", "swir2": "B7"],
        .landsatTM: ["blue": "B1", "green": "B2", "red": "B3", "nir": "B4", "swir1": "B5", "swir2": "B7"],
    ]

    /// Every common name some sensor has.
    public static let names: Set<String> = Set(table.values.flatMap(\.keys))

    /// The family of a shard.json `"sensor"` text ("sentinel2", "Sentinel-2B", "landsat8", "LC09",
    /// "Landsat 5", "LT05", "LE07", …); nil when it names none (or only "landsat", which is ambiguous).
    public static func family(of sensor: String) -> Family? {
        let s = sensor.lowercased().filter { $0.isLetter || $0.isNumber }
        if s.hasPrefix("sentinel2") || s == "s2" || s == "s2a" || s == "s2b" || s == "s2c" || s == "msi" { return .sentinel2 }
        if ["landsat8", "landsat9", "lc08", "lc09", "lc8", "lc9", "l8", "l9", "oli"].contains(s) { return .landsatOLI }
        if ["landsat4", "landsat5", "landsat7", "lt04", "lt05", "le07", "lt4", "lt5", "le7", "l4", "l5", "l7", "tm", "etm"].contains(s) {
            return .landsatTM
        }
        return nil
    }

    /// The index in `bandNames` of the band the common name `name` stands for, as the sensor
    /// names it ("B04"), unpadded or padded ("B4" for "B04") or as a Collection 2 file names it
    /// ("SR_B4"); nil when the tile has no such band. Throws (naming `manifest`) when the
    /// repository's sensor is unknown.
    public static func band(_ name: String, sensor: String?, in bandNames: [String], manifest: String) throws -> Int? {
        guard let sensor, let family = family(of: sensor) else {
            throw DataError(path: manifest, object: "sensor",
                            "band '\(name)' is a common band name, which needs the sensor: set \"sensor\" to sentinel2, landsat8/landsat9 or landsat4/5/7 (got \(sensor.map { "'\($0)'" } ?? "none"))")
        }
        guard let own = table[family]?[name] else { return nil }
        let digits = own.dropFirst().drop { $0 == "0" }
        let variants = [own, "B" + digits, "B0" + digits].map { $0.uppercased() }
        return bandNames.firstIndex { b in
            let u = b.uppercased()
            return variants.contains(u) || variants.contains { u.hasSuffix("_" + $0) }
        }
    }
}
