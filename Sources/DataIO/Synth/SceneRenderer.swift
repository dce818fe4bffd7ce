import Engine

/// The land cover of one grid, pixel by pixel: class, field (a hash), labelled or not.
struct ClassMap {
    let width: Int, height: Int
    var cls: [UInt8]
    var cell: [UInt64]
    var labelled: [Bool]

    init(_ landscape: Landscape, grid: ProjectedGrid) {
        width = grid.width
        height = grid.height
        let n = width * height
        cls = [UInt8](repeating: 0, count: n)
        cell = [UInt64](repeating: 0, count: n)
        labelled = [Bool](repeating: false, count: n)
        var cache: [UInt64: UInt8] = [:]
        for row in 0..<height {
            for col in 0..<width {
                let (x, y) = grid.centre(col, row)
                let s = landscape.sample(x, y, cache: &cache)
                let i = row * width + col
                cls[i] = s.cls
                cell[i] = s.cell
                labelled[i] = s.labelled
            }
        }
    }

    /// The label raster: class values, 0 (NODATA) where the reference does not label.
    var labels: [UInt8] { zip(cls, labelled).map { $1 ? $0 : 0 } }
}

/// Paints the surface reflectance of one acquisition on one grid:
/// class spectrum at the field's point in its season → field-to-field variation (the class's
/// measured spread) → texture inside the field → cloud shadow → cloud → sensor noise.
struct SceneRenderer {
    let spectra: ClassSpectra
    let dayOfYear: Float
    let clouds: CloudLayer
    let cloudsAsNoData: Bool
    /// Key of this tile and date: the sensor noise.
    let noiseKey: UInt64
    /// Key of the region: textures, stable across dates.
    let regionKey: UInt64

    /// Texture inside fields per class value: smooth-noise scale (metres) and relative amplitude
    /// (tree crowns, crop rows and soil moisture, roofs and streets).
    static let texture: [(scale: Double, amplitude: Float)] = {
        var t = [(scale: Double, amplitude: Float)](repeating: (100, 0.05), count: ClassSpectra.classCount + 1)
        t[Int(ClassSpectra.water)] = (250, 0.08)
        t[Int(ClassSpectra.forest)] = (12, 0.12)
        t[Int(ClassSpectra.cropland)] = (90, 0.04)
        t[Int(ClassSpectra.grassland)] = (35, 0.07)
        t[Int(ClassSpectra.urban)] = (18, 0.22)
        t[Int(ClassSpectra.bareSoil)] = (70, 0.10)
        t[Int(ClassSpectra.sand)] = (50, 0.05)
        t[Int(ClassSpectra.shrubland)] = (20, 0.14)
        return t
    }()

    /// How far a field's spectrum strays from its class mean, in class standard deviations.
    /// Fields of crops and bare soil differ a lot from each other; stands of natural cover and
    /// blocks of a town much less (they vary smoothly instead, see `reflectance`).
    static let fieldSpread: [Float] = {
        var s = [Float](repeating: 0.2, count: ClassSpectra.classCount + 1)
        s[Int(ClassSpectra.water)] = 0.1
        s[Int(ClassSpectra.forest)] = 0.15
        s[Int(ClassSpectra.cropland)] = 0.5
        s[Int(ClassSpectra.grassland)] = 0.25
        s[Int(ClassSpectra.urban)] = 0.12
        s[Int(ClassSpectra.bareSoil)] = 0.35
        s[Int(ClassSpectra.sand)] = 0.15
        s[Int(ClassSpectra.shrubland)] = 0.15
        return s
    }()

    /// Reflectance, bands × height × width in the sensor's spectral band order. Sets `noData`
    /// on opaque cloud when clouds are masked; pixels already NODATA are left as painted.
    func reflectance(grid: ProjectedGrid, map: ClassMap, noData: inout [Bool]) -> [Float] {
        let nb = spectra.bands.count
        let n = grid.width * grid.height
        var out = [Float](repeating: 0, count: nb * n)
        let cloudBand = spectra.centres.map { CloudLayer.reflectance(atMicrometres: $0) }
        let grass = Int(ClassSpectra.grassland)

        // Per field: its spectrum today (class mean in season + its own offset) and, for towns,
        // the green of its gardens. Fields repeat over many pixels: compute each once.
        var fieldIndex: [UInt64: Int] = [:]
        var fieldSpectra: [Float] = []
        var gardenSpectra: [Float] = []
        func fieldSlot(_ cls: UInt8, _ cell: UInt64) -> Int {
            let key = cell ^ (UInt64(cls) << 56)
            if let s = fieldIndex[key] { return s }
            let slot = fieldIndex.count
            fieldIndex[key] = slot
            let c = Int(cls)
            let g = Phenology.curve(class: cls, cell: cell).greenness(dayOfYear: dayOfYear)
            let zShared = Noise.gaussian(Noise.hash(cell, 7, 0))
            let spread = Self.fieldSpread[c]
            for b in 0..<nb {
                let mean = spectra.dormantMean[c][b] + g * (spectra.peakMean[c][b] - spectra.dormantMean[c][b])
                let std = spectra.dormantStd[c][b] + g * (spectra.peakStd[c][b] - spectra.dormantStd[c][b])
                let z = 0.9 * zShared + 0.25 * Noise.gaussian(Noise.hash(cell, 7, Int64(b + 1)))
                fieldSpectra.append(max(mean + spread * std * z, 0.002))
                gardenSpectra.append(spectra.dormantMean[grass][b] + g * (spectra.peakMean[grass][b] - spectra.dormantMean[grass][b]))
            }
            return slot
        }

        let textureKey = Noise.key(regionKey, 201), gardenKey = Noise.key(regionKey, 202)
        let broadKey = Noise.key(regionKey, 203)
        out.withUnsafeMutableBufferPointer { o in
            for row in 0..<grid.height {
                for col in 0..<grid.width {
                    let i = row * grid.width + col
                    let (x, y) = grid.centre(col, row)
                    let cls = map.cls[i]
                    let slot = fieldSlot(cls, map.cell[i]) * nb
                    let tex = Self.texture[Int(cls)]
                    let amp = tex.amplitude * Float(min(1, tex.scale / grid.resolution))
                    let t = Noise.fbm(Noise.key(textureKey, Int(cls)), x / tex.scale, y / tex.scale, octaves: 2)
                    // Texture, and a broad smooth variation (moisture, soils, stand age) across fields.
                    let broad = Noise.fbm(broadKey, x / 700, y / 700, octaves: 3)
                    let factor = (1 + 2 * amp * (t - 0.5)) * (0.9 + 0.2 * broad)
                    var garden: Float = 0
                    if cls == ClassSpectra.urban {
                        garden = max(0, Noise.fbm(gardenKey, x / 60, y / 60, octaves: 2) - 0.5) * 1.2
                    }
                    let shadow = clouds.shadowFactor(x, y)
                    let alpha = clouds.opacity(x, y)
                    let bright = alpha > 0 ? clouds.brightness(x, y) : 1
                    if cloudsAsNoData, alpha > CloudLayer.opaque { noData[i] = true }
                    let h = Noise.hash(noiseKey, Int64(i), 0)
                    for b in 0..<nb {
                        var r = fieldSpectra[slot + b] * (1 - garden) + gardenSpectra[slot + b] * garden
                        r *= factor * shadow
                        r = r * (1 - alpha) + alpha * cloudBand[b] * bright
                        r += (0.002 + 0.01 * r) * Noise.gaussian(SplitMix64.mix(h &+ UInt64(b)))
                        o[b * n + i] = max(r, 0.0005)
                    }
                }
            }
        }
        return out
    }
}
