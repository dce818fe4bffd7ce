/// Colours for class maps: a fixed set of distinct, readable colours for the first classes,
/// then hues spaced by the golden angle; NODATA (255) transparent black.
enum ClassPalette {
    static let base: [(UInt8, UInt8, UInt8)] = [
        (0, 100, 0), (255, 187, 34), (255, 255, 76), (240, 150, 255), (250, 0, 0), (180, 180, 180),
        (240, 240, 240), (0, 100, 200), (0, 150, 160), (0, 207, 117), (250, 230, 160), (120, 60, 20),
    ]

    /// 256 RGBA entries: class i's colour for i < `classes`, entry 255 transparent.
    static func table(classes: Int) -> [(UInt8, UInt8, UInt8, UInt8)] {
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
