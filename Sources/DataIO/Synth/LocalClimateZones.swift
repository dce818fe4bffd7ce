import Engine
import Foundation

/// The 17 local climate zones of So2Sat LCZ42 as recipes for 32 × 32 patches at 10 m: a ground
/// of surface materials, tree cover, and buildings of a size, density and height. A patch's class
/// decides its structure (building size, spacing, shadows, greenery), so both spectra and
/// texture carry the class, as in the real data.
enum LocalClimateZones {
    static let names = [
        "compact high-rise", "compact mid-rise", "compact low-rise", "open high-rise", "open mid-rise",
        "open low-rise", "lightweight low-rise", "large low-rise", "sparsely built", "heavy industry",
        "dense trees", "scattered trees", "bush, scrub", "low plants", "bare rock or paved",
        "bare soil or sand", "water",
    ]
    static let count = 17
    static let patch = 32

    /// Surface materials, named as in the class spectra table.
    enum Material: Int, CaseIterable {
        case water, vegDense, vegModerate, vegSparse, soil, sand, npv, roof, pavement, gravel, char
        var tableName: String {
            ["water", "veg_dense", "veg_moderate", "veg_sparse", "soil", "sand", "npv", "roof", "pavement", "gravel", "char"][rawValue]
        }
        var isVegetation: Bool { self == .vegDense || self == .vegModerate || self == .vegSparse }

        /// Sentinel-1 backscatter (σ0, linear) in VV and VH: smooth surfaces dark, volume
        /// scatterers (canopies) bright in VH, buildings (double bounce) brightest in VV.
        var backscatter: (vv: Float, vh: Float) {
            switch self {
            case .water: return (0.010, 0.002)
            case .vegDense: return (0.15, 0.040)
            case .vegModerate: return (0.08, 0.018)
            case .vegSparse: return (0.07, 0.015)
            case .soil: return (0.06, 0.008)
            case .sand: return (0.03, 0.004)
            case .npv: return (0.06, 0.012)
            case .roof: return (0.25, 0.045)
            case .pavement: return (0.02, 0.003)
            case .gravel: return (0.05, 0.008)
            case .char: return (0.05, 0.008)
            }
        }
    }

    struct Recipe {
        /// Ground materials and their shares (partitioned by a smooth field of `groundScale` px).
        var ground: [(Material, Float)]
        var groundScale: Double = 5
        /// Tree (or bush) cover, in blobs of `treeScale` px.
        var trees: Float = 0
        var treeScale: Double = 2.5
        var treeMaterial: Material = .vegDense
        /// Building plan-area fraction, footprint edge (px), height (shadow length in px and
        /// double-bounce strength), roof brightness, and whether the layout is a regular grid.
        var buildings: Float = 0
        var buildingSize: ClosedRange<Double> = 1...2
        var height: Float = 1
        var roofBrightness: Float = 1
        var regular = true
    }

    static let recipes: [Recipe] = [
        Recipe(ground: [(.pavement, 0.85), (.vegModerate, 0.15)], trees: 0.03, buildings: 0.45, buildingSize: 4...7, height: 5),
        Recipe(ground: [(.pavement, 0.8), (.vegModerate, 0.2)], trees: 0.06, buildings: 0.5, buildingSize: 3...5, height: 3),
        Recipe(ground: [(.pavement, 0.75), (.soil, 0.1), (.vegModerate, 0.15)], trees: 0.05, buildings: 0.55, buildingSize: 1.5...3, height: 1, regular: false),
        Recipe(ground: [(.vegModerate, 0.5), (.pavement, 0.5)], trees: 0.15, buildings: 0.2, buildingSize: 3...6, height: 5),
        Recipe(ground: [(.vegModerate, 0.5), (.pavement, 0.5)], trees: 0.18, buildings: 0.22, buildingSize: 2...4, height: 3),
        Recipe(ground: [(.vegModerate, 0.6), (.pavement, 0.4)], trees: 0.22, buildings: 0.25, buildingSize: 1.5...3, height: 1),
        Recipe(ground: [(.soil, 0.7), (.pavement, 0.3)], trees: 0.02, buildings: 0.7, buildingSize: 1...1.8, height: 0.5, roofBrightness: 1.3, regular: false),
        Recipe(ground: [(.pavement, 0.8), (.vegModerate, 0.2)], trees: 0.03, buildings: 0.45, buildingSize: 6...12, height: 1.5, roofBrightness: 1.4),
        Recipe(ground: [(.vegModerate, 0.7), (.soil, 0.1), (.pavement, 0.2)], trees: 0.2, buildings: 0.08, buildingSize: 1.5...3, height: 1, regular: false),
        Recipe(ground: [(.pavement, 0.45), (.gravel, 0.3), (.char, 0.25)], trees: 0.02, buildings: 0.35, buildingSize: 4...10, height: 2, roofBrightness: 1.2),
        Recipe(ground: [(.vegModerate, 0.7), (.npv, 0.3)], trees: 0.9, treeScale: 3),
        Recipe(ground: [(.vegModerate, 0.8), (.npv, 0.2)], trees: 0.3, treeScale: 2),
        Recipe(ground: [(.soil, 0.4), (.npv, 0.6)], trees: 0.6, treeScale: 1.5, treeMaterial: .vegSparse),
        Recipe(ground: [(.vegModerate, 0.75), (.soil, 0.25)], groundScale: 14),
        Recipe(ground: [(.pavement, 0.5), (.gravel, 0.5)], groundScale: 6),
        Recipe(ground: [(.soil, 0.5), (.sand, 0.5)], groundScale: 20),
        Recipe(ground: [(.water, 1)], groundScale: 20),
    ]

    /// Per-pixel structure of one patch.
    struct Layout {
        var material: [Material]
        /// Shade from buildings (1 sunlit … 0.35 in shadow).
        var shade: [Float]
        /// Building height where there is a roof, else 0.
        var height: [Float]
    }

    /// Lays out patch `key` of class `lcz` (0-based).
    static func layout(_ lcz: Int, key: UInt64) -> Layout {
        let r = recipes[lcz], p = patch, n = p * p
        var m = [Material](repeating: r.ground[0].0, count: n)
        var shade = [Float](repeating: 1, count: n)
        var height = [Float](repeating: 0, count: n)
        let ox = Double(Noise.unit(Noise.hash(key, 1, 0))) * 1000, oy = Double(Noise.unit(Noise.hash(key, 2, 0))) * 1000

        // Ground: a smooth field cut at the materials' cumulative shares.
        if r.ground.count > 1 {
            var cuts: [Float] = []
            var acc: Float = 0
            for (_, share) in r.ground.dropLast() { acc += share; cuts.append(Noise.fbmQuantile(octaves: 2, acc)) }
            let gk = Noise.key(key, 3)
            for y in 0..<p {
                for x in 0..<p {
                    let v = Noise.fbm(gk, (Double(x) + ox) / r.groundScale, (Double(y) + oy) / r.groundScale, octaves: 2)
                    var k = 0
                    while k < cuts.count, v > cuts[k] { k += 1 }
                    m[y * p + x] = r.ground[k].0
                }
            }
        }
        // Trees: blobs.
        if r.trees > 0 {
            let cut = Noise.fbmQuantile(octaves: 2, 1 - r.trees)
            let tk = Noise.key(key, 4)
            for y in 0..<p {
                for x in 0..<p where Noise.fbm(tk, (Double(x) + ox) / r.treeScale, (Double(y) + oy) / r.treeScale, octaves: 2) > cut {
                    m[y * p + x] = r.treeMaterial
                }
            }
        }
        // Buildings: one per cell of a (jittered) grid whose spacing gives the plan fraction.
        if r.buildings > 0 {
            let meanSize = (r.buildingSize.lowerBound + r.buildingSize.upperBound) / 2
            let spacing = max(meanSize / Double(r.buildings).squareRoot(), meanSize + 1)
            let cells = Int((Double(p) / spacing).rounded(.up)) + 1
            let bk = Noise.key(key, 5)
            let phase = (Double(Noise.unit(Noise.hash(bk, -1, 0))) * spacing, Double(Noise.unit(Noise.hash(bk, -1, 1))) * spacing)
            for j in -1..<cells {
                for i in -1..<cells {
                    let h = Noise.hash(bk, Int64(i), Int64(j))
                    let u = { (s: Int) in Double(Noise.unit(SplitMix64.mix(h &+ UInt64(s)))) }
                    let bw = r.buildingSize.lowerBound + u(1) * (r.buildingSize.upperBound - r.buildingSize.lowerBound)
                    let bh = r.buildingSize.lowerBound + u(2) * (r.buildingSize.upperBound - r.buildingSize.lowerBound)
                    let jitter = r.regular ? 0.15 : 0.6
                    let x0 = Double(i) * spacing - phase.0 + (spacing - bw) * (0.5 + jitter * (u(3) - 0.5))
                    let y0 = Double(j) * spacing - phase.1 + (spacing - bh) * (0.5 + jitter * (u(4) - 0.5))
                    let bheight = r.height * Float(0.7 + 0.6 * u(5))
                    let xa = max(Int(x0.rounded()), 0), xb = min(Int((x0 + bw).rounded()), p)
                    let ya = max(Int(y0.rounded()), 0), yb = min(Int((y0 + bh).rounded()), p)
                    guard xa < xb else { continue }
                    // Shadow to the north (up the image), as long as the building is tall.
                    let shadowRows = Int(bheight.rounded())
                    let sa = max(ya - shadowRows, 0), sb = min(ya, p)
                    if sa < sb {
                        for y in sa..<sb { for x in xa..<xb { shade[y * p + x] = 0.35 } }
                    }
                    guard ya < yb else { continue }
                    for y in ya..<yb {
                        for x in xa..<xb {
                            m[y * p + x] = .roof
                            height[y * p + x] = bheight
                            shade[y * p + x] = r.roofBrightness
                        }
                    }
                }
            }
        }
        return Layout(material: m, shade: shade, height: height)
    }

    /// Sentinel-2 patch, 32 × 32 × 10 (H × W × C, So2Sat's order), reflectance. The 20 m bands
    /// are 2 × 2 block means repeated onto the 10 m grid, as So2Sat's upsampled bands. `city`
    /// shifts every material a little the same way for all patches of a city (its roofs, soils,
    /// season): the domain shift that makes real cities hard to generalise across.
    static func sentinel2(_ layout: Layout, key: UInt64, city: UInt64) -> [Float] {
        let spectra = ClassSpectra.sentinel2
        let nb = spectra.bands.count, p = patch, n = p * p
        // This patch's version of each material (its own shade of roof, its own soil), and the
        // season: vegetation mixed towards dry matter.
        let green = 0.55 + 0.25 * Noise.unit(Noise.hash(key, 10, 0)) + 0.2 * Noise.unit(Noise.hash(city, 10, 0))
        let npv = spectra.materials["npv"]!.mean
        var mats = [[Float]]()
        for mat in Material.allCases {
            let (mean, std) = spectra.materials[mat.tableName]!
            let z = 0.8 * Noise.gaussian(Noise.hash(key, 11, Int64(mat.rawValue)))
                + 0.4 * Noise.gaussian(Noise.hash(city, 11, Int64(mat.rawValue)))
            mats.append((0..<nb).map { b in
                var v = mean[b] + 0.4 * std[b] * (0.9 * z + 0.2 * Noise.gaussian(Noise.hash(key, 12, Int64(mat.rawValue * 16 + b))))
                if mat.isVegetation { v = green * v + (1 - green) * npv[b] }
                return max(v, 0.002)
            })
        }
        var out = [Float](repeating: 0, count: n * nb)
        for i in 0..<n {
            let s = mats[layout.material[i].rawValue]
            let h = Noise.hash(key, 13, Int64(i))
            for b in 0..<nb {
                var r = s[b] * layout.shade[i]
                r += (0.003 + 0.01 * r) * Noise.gaussian(SplitMix64.mix(h &+ UInt64(b)))
                out[i * nb + b] = max(r, 0.0005)
            }
        }
        for name in ["B05", "B06", "B07", "B8A", "B11", "B12"] {
            let b = spectra.band(name)
            for y in stride(from: 0, to: p, by: 2) {
                for x in stride(from: 0, to: p, by: 2) {
                    let idx = [y * p + x, y * p + x + 1, (y + 1) * p + x, (y + 1) * p + x + 1]
                    let mean = idx.reduce(Float(0)) { $0 + out[$1 * nb + b] } / 4
                    for i in idx { out[i * nb + b] = mean }
                }
            }
        }
        return out
    }

    /// Sentinel-1 patch, 32 × 32 × 8 in So2Sat's channel order: real and imaginary parts of the
    /// unfiltered VH and VV (single-look complex, speckled), Lee-filtered VH and VV intensities,
    /// and the real and imaginary parts of the filtered VH·VV* covariance. (The filter here is a
    /// 5 × 5 boxcar: a stand-in for the refined Lee filter.)
    static func sentinel1(_ layout: Layout, key: UInt64, city: UInt64) -> [Float] {
        let p = patch, n = p * p
        // Mean intensity per pixel: material backscatter, buildings brighter in VV with height
        // (double bounce), blurred over 3 × 3 (the radar's ~20 m resolution).
        var vv = [Float](repeating: 0, count: n), vh = vv
        // Incidence angle and calibration differ between acquisitions (cities) and across a swath.
        let gain = (0.85 + 0.3 * Noise.unit(Noise.hash(city, 20, 0))) * (0.9 + 0.2 * Noise.unit(Noise.hash(key, 20, 0)))
        for i in 0..<n {
            let bs = layout.material[i].backscatter
            let bounce = 1 + 0.8 * layout.height[i]
            vv[i] = bs.vv * bounce * gain
            vh[i] = bs.vh * (1 + 0.3 * layout.height[i]) * gain
        }
        vv = box(vv, radius: 1)
        vh = box(vh, radius: 1)
        // Speckle: circular complex Gaussian scattering, VH and VV correlated (ρ = 0.3).
        var reVH = [Float](repeating: 0, count: n), imVH = reVH, reVV = reVH, imVV = reVH
        let rho: Float = 0.3, rhoC = (1 - rho * rho).squareRoot()
        for i in 0..<n {
            let h1 = Noise.hash(key, 21, Int64(i)), h2 = Noise.hash(key, 22, Int64(i))
            let a = Noise.gaussian(h1), b = Noise.gaussian(h1 ^ 0x5555_5555_5555_5555)
            let c = Noise.gaussian(h2), d = Noise.gaussian(h2 ^ 0x5555_5555_5555_5555)
            let svv = (vv[i] / 2).squareRoot(), svh = (vh[i] / 2).squareRoot()
            reVV[i] = svv * a
            imVV[i] = svv * b
            reVH[i] = svh * (rho * a + rhoC * c)
            imVH[i] = svh * (rho * b + rhoC * d)
        }
        let iVH = box((0..<n).map { reVH[$0] * reVH[$0] + imVH[$0] * imVH[$0] }, radius: 2)
        let iVV = box((0..<n).map { reVV[$0] * reVV[$0] + imVV[$0] * imVV[$0] }, radius: 2)
        // VH · conj(VV)
        let cRe = box((0..<n).map { reVH[$0] * reVV[$0] + imVH[$0] * imVV[$0] }, radius: 2)
        let cIm = box((0..<n).map { imVH[$0] * reVV[$0] - reVH[$0] * imVV[$0] }, radius: 2)
        var out = [Float](repeating: 0, count: n * 8)
        for i in 0..<n {
            out[i * 8 + 0] = reVH[i]; out[i * 8 + 1] = imVH[i]
            out[i * 8 + 2] = reVV[i]; out[i * 8 + 3] = imVV[i]
            out[i * 8 + 4] = iVH[i]; out[i * 8 + 5] = iVV[i]
            out[i * 8 + 6] = cRe[i]; out[i * 8 + 7] = cIm[i]
        }
        return out
    }

    /// Mean over a (2r+1)² window, clamped at the patch edges.
    static func box(_ v: [Float], radius r: Int) -> [Float] {
        let p = patch
        var out = [Float](repeating: 0, count: p * p)
        for y in 0..<p {
            for x in 0..<p {
                var s: Float = 0, k: Float = 0
                for yy in max(y - r, 0)...min(y + r, p - 1) {
                    for xx in max(x - r, 0)...min(x + r, p - 1) { s += v[yy * p + xx]; k += 1 }
                }
                out[y * p + x] = s / k
            }
        }
        return out
    }
}
