import Engine
import Foundation

/// What kind of country a region (a shard) is: the land-cover mix and its water. Real shards
/// differ (a farming plain, forested hills, a city's outskirts, dry scrubland, a coast), and so
/// must synthetic ones, or a model rotating over them learns nothing from the rotation.
struct RegionKind: Sendable {
    let name: String
    /// Relative area of each land class, by class value (index 0 and water unused: water comes
    /// from lakes, a river or the sea).
    let weights: [Float]
    /// Fraction of the area under lakes.
    let lakes: Float
    let river: Bool
    let sea: Bool

    private static func w(forest: Float, crop: Float, grass: Float, urban: Float, soil: Float, sand: Float, shrub: Float) -> [Float] {
        var v = [Float](repeating: 0, count: ClassSpectra.classCount + 1)
        v[Int(ClassSpectra.forest)] = forest; v[Int(ClassSpectra.cropland)] = crop
        v[Int(ClassSpectra.grassland)] = grass; v[Int(ClassSpectra.urban)] = urban
        v[Int(ClassSpectra.bareSoil)] = soil; v[Int(ClassSpectra.sand)] = sand
        v[Int(ClassSpectra.shrubland)] = shrub
        return v
    }

    static let all: [RegionKind] = [
        RegionKind(name: "farmland", weights: w(forest: 0.12, crop: 0.55, grass: 0.15, urban: 0.06, soil: 0.06, sand: 0.01, shrub: 0.04),
                   lakes: 0.02, river: true, sea: false),
        RegionKind(name: "forested hills", weights: w(forest: 0.55, crop: 0.05, grass: 0.15, urban: 0.03, soil: 0.03, sand: 0.01, shrub: 0.18),
                   lakes: 0.07, river: false, sea: false),
        RegionKind(name: "city outskirts", weights: w(forest: 0.10, crop: 0.16, grass: 0.20, urban: 0.42, soil: 0.06, sand: 0.01, shrub: 0.05),
                   lakes: 0.02, river: true, sea: false),
        RegionKind(name: "dry scrubland", weights: w(forest: 0.05, crop: 0.15, grass: 0.14, urban: 0.05, soil: 0.22, sand: 0.05, shrub: 0.34),
                   lakes: 0, river: false, sea: false),
        RegionKind(name: "coast", weights: w(forest: 0.08, crop: 0.22, grass: 0.22, urban: 0.18, soil: 0.04, sand: 0.06, shrub: 0.12),
                   lakes: 0.01, river: false, sea: true),
    ]
}

/// One point of the landscape: its class, the field or stand it lies in (a hash: per-field
/// spectra, crop type, season), and whether the reference map labels it.
struct LandSample: Sendable {
    var cls: UInt8
    var cell: UInt64
    var labelled: Bool
}

/// The ground truth of one region: which land-cover class is where, as a function of map
/// coordinates (metres in the region's UTM zone). Every grid (10 m bands, 20 m bands, 30 m
/// Landsat, a 100 m label in another CRS) samples the same landscape, so they agree.
///
/// Classes form smooth regions, never per-pixel noise:
/// - fields and stands are cells of a jittered Voronoi tessellation (~220 m), their borders
///   bent a little by a smooth warp;
/// - each cell takes the class whose smooth "zone" field (km scale, one per class, biased by the
///   region's mix) is highest at the cell's centre, so forests, farmland and towns come in
///   contiguous patches of many fields, and adjacent fields mostly share a class;
/// - water is drawn on top at pixel level: lakes (thresholded smooth noise), a meandering river,
///   or the sea behind a wavy coast with a sand beach;
/// - small smooth patches are left unlabelled (label NODATA), as in real reference maps.
struct Landscape: Sendable {
    let key: UInt64
    let kind: RegionKind
    /// Centre of the region (map coordinates) and half its smaller side, metres.
    let centreX: Double, centreY: Double, halfExtent: Double
    let fieldSize: Double = 220
    let zoneScale: Double = 3200
    private let bias: [Float]
    private let lakeThreshold: Float
    private let unlabelledThreshold: Float
    private let riverAngle: Double, riverOffset: Double, riverWidth: Double
    private let seaAngle: Double, seaOffset: Double, beachWidth: Double
    private let fieldCos: Double, fieldSin: Double
    private let fieldAspect = 1.4   // √2: cells about twice as long as wide

    init(key: UInt64, kind: RegionKind, centreX: Double, centreY: Double, halfExtent: Double) {
        self.key = key
        self.kind = kind
        self.centreX = centreX
        self.centreY = centreY
        self.halfExtent = halfExtent
        // The region's own mix: the kind's weights, each scaled by 0.6...1.4.
        bias = kind.weights.enumerated().map { i, w in
            guard w > 0 else { return -10 }
            let jitter = 0.6 + 0.8 * Noise.unit(Noise.hash(key, 77, Int64(i)))
            return 0.11 * logf(w * jitter)
        }
        lakeThreshold = kind.lakes > 0 ? Noise.fbmQuantile(octaves: 3, 1 - kind.lakes) : 2
        unlabelledThreshold = Noise.fbmQuantile(octaves: 2, 0.985)
        let u = { (n: Int64) in Double(Noise.unit(Noise.hash(key, 91, n))) }
        riverAngle = u(1) * .pi
        riverOffset = (u(2) - 0.5) * halfExtent
        riverWidth = 35 + 70 * u(3)
        seaAngle = u(4) * 2 * .pi
        seaOffset = halfExtent * (0.2 + 0.3 * u(5))
        beachWidth = 50 + 100 * u(6)
        fieldCos = cos(u(7) * .pi)
        fieldSin = sin(u(7) * .pi)
    }

    /// The landscape at map point (x, y).
    func sample(_ x: Double, _ y: Double, cache: inout [UInt64: UInt8]) -> LandSample {
        let labelled = Noise.fbm(Noise.key(key, 11), x / 1500, y / 1500, octaves: 2) < unlabelledThreshold
        if let water = waterAt(x, y) { return LandSample(cls: water.cls, cell: water.cell, labelled: labelled) }
        let (cell, sx, sy) = field(x, y)
        let cls: UInt8
        if let c = cache[cell] {
            cls = c
        } else {
            cls = zoneClass(sx, sy)
            cache[cell] = cls
        }
        return LandSample(cls: cls, cell: cell, labelled: labelled)
    }

    /// Water (and the beach in front of the sea) at (x, y), or nil for land.
    private func waterAt(_ x: Double, _ y: Double) -> (cls: UInt8, cell: UInt64)? {
        let dx = x - centreX, dy = y - centreY
        if kind.sea {
            let along = -dx * sin(seaAngle) + dy * cos(seaAngle)
            let across = dx * cos(seaAngle) + dy * sin(seaAngle)
            let coast = seaOffset + 700 * Double(Noise.fbm1(Noise.key(key, 21), along / 2500, octaves: 4) - 0.5) * 2
            if across > coast { return (ClassSpectra.water, Noise.key(key, 22)) }
            if across > coast - beachWidth { return (ClassSpectra.sand, Noise.key(key, 23)) }
        }
        if kind.river {
            let along = dx * cos(riverAngle) + dy * sin(riverAngle)
            let across = -dx * sin(riverAngle) + dy * cos(riverAngle)
            let meander = riverOffset + 900 * Double(Noise.fbm1(Noise.key(key, 31), along / 3000, octaves: 3) - 0.5) * 2
            let width = riverWidth * (0.7 + 0.6 * Double(Noise.fbm1(Noise.key(key, 32), along / 1500, octaves: 2)))
            if abs(across - meander) < width / 2 { return (ClassSpectra.water, Noise.key(key, 33)) }
        }
        if kind.lakes > 0, Noise.fbm(Noise.key(key, 41), x / 1200, y / 1200, octaves: 3) > lakeThreshold {
            return (ClassSpectra.water, Noise.key(key, 42))
        }
        return nil
    }

    /// The field (Voronoi cell) containing (x, y): its hash and its seed point.
    @inline(__always)
    private func field(_ x: Double, _ y: Double) -> (UInt64, Double, Double) {
        // Bend the cell borders a little (±30 m) so fields are not perfect polygons.
        let wx = x + 60 * Double(Noise.fbm(Noise.key(key, 51), x / 160, y / 160, octaves: 2) - 0.5)
        let wy = y + 60 * Double(Noise.fbm(Noise.key(key, 52), x / 160, y / 160, octaves: 2) - 0.5)
        // Fields are elongated (about 2:1) along the region's own direction of land division.
        let fx = (wx * fieldCos + wy * fieldSin) / fieldAspect, fy = (-wx * fieldSin + wy * fieldCos) * fieldAspect
        let gx = Int64((fx / fieldSize).rounded(.down)), gy = Int64((fy / fieldSize).rounded(.down))
        var best = Double.infinity, bestCell: UInt64 = 0, bx = 0.0, by = 0.0
        let ck = Noise.key(key, 53)
        for j in (gy - 1)...(gy + 1) {
            for i in (gx - 1)...(gx + 1) {
                let h = Noise.hash(ck, i, j)
                let px = (Double(i) + 0.1 + 0.8 * Double(Noise.unit(h))) * fieldSize
                let py = (Double(j) + 0.1 + 0.8 * Double(Noise.unit(h << 24))) * fieldSize
                let d = (px - fx) * (px - fx) + (py - fy) * (py - fy)
                if d < best { best = d; bestCell = h; bx = px; by = py }
            }
        }
        // The seed point back in map coordinates (where its zone is looked up).
        let ux = bx * fieldAspect, uy = by / fieldAspect
        return (bestCell, ux * fieldCos - uy * fieldSin, ux * fieldSin + uy * fieldCos)
    }

    /// The land class whose zone field, plus the region's bias for it, is highest at (x, y).
    private func zoneClass(_ x: Double, _ y: Double) -> UInt8 {
        var best: Float = -.infinity, cls = ClassSpectra.grassland
        for v in 1..<bias.count where bias[v] > -10 {
            let s = Noise.fbm(Noise.key(key, 100 + v), x / zoneScale, y / zoneScale, octaves: 3) + bias[v]
            if s > best { best = s; cls = UInt8(v) }
        }
        return cls
    }
}
