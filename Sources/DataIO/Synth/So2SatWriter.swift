import Dispatch
import Foundation

/// One HDF5 file per shard in the So2Sat LCZ42 layout: `sen1` N×32×32×8, `sen2` N×32×32×10,
/// `label` N×17 one-hot, all float32 (Sentinel-2 as reflectance, Sentinel-1 as linear
/// complex amplitudes and intensities). Each shard is one "city" with its own mix of zones.
enum So2SatWriter {
    /// How common each zone is overall (roughly So2Sat's training set: much low plants, trees,
    /// open low-rise and water; little lightweight low-rise).
    static let baseFrequency: [Float] = [0.03, 0.07, 0.03, 0.04, 0.06, 0.10, 0.01, 0.07, 0.03, 0.03,
                                         0.12, 0.04, 0.03, 0.12, 0.02, 0.02, 0.08]

    /// Kinds of city, each favouring some zones (1-based LCZ numbers).
    static let cities: [(name: String, favours: [Int])] = [
        ("high-rise metropolis", [1, 2, 4, 17]),
        ("european city", [2, 5, 6, 11, 14]),
        ("sprawling suburbs", [6, 8, 9, 14]),
        ("informal settlements", [3, 7, 13, 16]),
        ("industrial port", [8, 10, 15, 17]),
    ]

    /// Rows rendered at once (in parallel), then written.
    static let batch = 1024

    static func writeShard(_ options: SynthOptions, index s: Int) throws -> SynthReport.Shard {
        let key = Noise.key(Noise.key(options.seed, "so2sat"), s)
        let city = cities[(s + Int(Noise.hash(Noise.key(options.seed, "cities"), 0, 0) % UInt64(cities.count))) % cities.count]
        var weights = baseFrequency.enumerated().map { i, f in
            f * (0.15 + 1.7 * Noise.unit(Noise.hash(key, 1, Int64(i)))) * (city.favours.contains(i + 1) ? 3 : 1)
        }
        let total = weights.reduce(0, +)
        weights = weights.map { $0 / total }
        var cumulative = [Float]()
        var acc: Float = 0
        for w in weights { acc += w; cumulative.append(acc) }

        let n = options.tilesPerShard, p = LocalClimateZones.patch, k = LocalClimateZones.count
        let classes: [Int] = (0..<n).map { i in
            let u = Noise.unit(Noise.hash(key, 2, Int64(i))) * acc
            return cumulative.firstIndex { u < $0 } ?? k - 1
        }
        var counts = [Int](repeating: 0, count: k + 1)
        for c in classes { counts[c + 1] += 1 }

        let path = options.shardPath(s)
        try HDF5File.writeAtomically(path) { f in
            try f.createDataset("sen1", shape: [n, p, p, 8])
            try f.createDataset("sen2", shape: [n, p, p, 10])
            try f.createDataset("label", shape: [n, k])
            for start in stride(from: 0, to: n, by: batch) {
                let rows = start..<min(start + batch, n)
                let s1 = Collector<[Float]>(count: rows.count), s2 = Collector<[Float]>(count: rows.count)
                DispatchQueue.concurrentPerform(iterations: rows.count) { j in
                    let i = rows.lowerBound + j
                    let pk = Noise.key(key, 1000 + i)
                    let layout = LocalClimateZones.layout(classes[i], key: pk)
                    s1.set(j, .success(LocalClimateZones.sentinel1(layout, key: pk, city: key)))
                    s2.set(j, .success(LocalClimateZones.sentinel2(layout, key: pk, city: key)))
                }
                let sen1 = try s1.values.flatMap { try $0!.get() }
                let sen2 = try s2.values.flatMap { try $0!.get() }
                var label = [Float](repeating: 0, count: rows.count * k)
                for (j, i) in rows.enumerated() { label[j * k + classes[i]] = 1 }
                try sen1.withUnsafeBufferPointer { try f.write("sen1", rows: rows, $0) }
                try sen2.withUnsafeBufferPointer { try f.write("sen2", rows: rows, $0) }
                try label.withUnsafeBufferPointer { try f.write("label", rows: rows, $0) }
            }
            try f.setAttribute("generator", "rstrain synth --preset so2sat --seed \(options.seed) (shard \(s): \(city.name))")
            try f.setAttribute("classes", LocalClimateZones.names.enumerated().map { "\($0.offset + 1) \($0.element)" }.joined(separator: "; "))
        }
        return SynthReport.Shard(path: path, region: city.name, crs: "none", dates: [], items: n,
                                 classCounts: counts, files: 1)
    }
}
