/// Colours for class maps: the ISPRS benchmark's colours when the classes are its six (by name),
/// else a fixed set of distinct, readable colours for the first classes, then hues spaced by the
/// golden angle; NODATA (255) transparent black.
public enum ClassPalette {
    /// The ISPRS 2D semantic labelling colours (Vaihingen, Potsdam), by class name.
    public static let isprs: [String: (UInt8, UInt8, UInt8)] = [
        "impervious surfaces": (255, 255, 255), "building": (0, 0, 255), "low vegetation": (0, 255, 255),
        "tree": (0, 255, 0), "car": (255, 255, 0), "clutter": (255, 0, 0),
    ]

    /// 256 RGBA entries for classes named `names` (ISPRS colours when every name is an ISPRS
    /// class: "Impervious surfaces", "Building", "Low vegetation", "Tree", "Car",
    /// "Clutter"/"background", any case, "_" for a space).
    public static func table(names: [String]) -> [(UInt8, UInt8, UInt8, UInt8)] {
        func key(_ n: String) -> String {
            let k = n.lowercased().replacingOccurrences(of: "_", with: " ").trimmingCharacters(in: .whitespaces)
            return k == "background" || k == "clutter/background" ? "clutter" : k
        }
        let known = names.map { isprs[key($0)] }
        guard !names.isEmpty, known.allSatisfy({ $0 != nil }) else { return table(classes: names.count) }
        return (0..<256).map { i in
            guard i < names.count, i != 255, let c = known[i] else { return (0, 0, 0, 0) }
            return (c.0, c.1, c.2, 255)
        }
    }

    static let base: [(UInt8, UInt8, UInt8)] = [
        (0, 100, 0), (255, 187, 34), (255, 255, 76), (240, 150, 255), (250, 0, 0), (180, 180, 180),
        (240, 240, 240), (0, 100, 200), (0, 150, 160), (0, 207, 117), (250, 230, 160), (120, 60, 20),
    ]

    /// 256 RGBA entries: class i's colour for i < `classes`, entry 255 transparent.
    /// A table as "#rrggbb" texts, one per class (for reports and weights files).
    public static func hex(_ table: [(UInt8, UInt8, UInt8, UInt8)], classes: Int) -> [String] {
        table.prefix(classes).map { String(format: "#%02x%02x%02x", Int($0.0), Int($0.1), Int($0.2)) }
    }

    /// 256 RGBA entries from "#rrggbb" texts, one per class (nil if one does not parse).
    public static func table(hex: [String]) -> [(UInt8, UInt8, UInt8, UInt8)]? {
        var out = [(UInt8, UInt8, UInt8, UInt8)](repeating: (0, 0, 0, 0), count: 256)
        for (i, h) in hex.enumerated() where i < 255 {
            guard h.count == 7, h.first == "#", let v = UInt32(h.dropFirst(), radix: 16) else { return nil }
            out[i] = (UInt8(v >> 16), UInt8((v >> 8) & 255), UInt8(v & 255), 255)
        }
        return out
    }

    public static func table(classes: Int) -> [(UInt8, UInt8, UInt8, UInt8)] {
        (0..<256).map { i in
            if i == 255 || i >= classes { return (0, 0, 0, 0) }
            if i < base.count { let c = base[i]; return (c.0, c.1, c.2, 255) }
            let (r, g, b) = hsv(Double(i) * 137.508, 0.65, 0.9)
            return (r, g, b, 255)
        }
    }

    private static func hsv(_ hue: Double, _ s: Double, _ v: Double) -> (UInt8, UInt8, UInt8) {
        let h = hue.truncatingRemainder(dividingBy: 360) / 60
        let c = v * s, x = c * (1 - abs(h.truncatingRemainder(dividingBy: 2) - 1)), m = v - c
        let (r, g, b): (Double, Double, Double) = switch Int(h) {
        case 0: (c, x, 0)
        case 1: (x, c, 0)
        case 2: (0, c, x)
        case 3: (0, x, c)
        case 4: (x, 0, c)
        default: (c, 0, x)
        }
        func byte(_ u: Double) -> UInt8 { UInt8(max(0, min(255, ((u + m) * 255).rounded()))) }
        return (byte(r), byte(g), byte(b))
    }
}
