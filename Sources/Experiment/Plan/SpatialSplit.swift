import DataIO

/// The held-out split of a tile shard made spatially honest: `holdOut`'s windows stay held out,
/// and a training window that shares a pixel with one of them (or comes within `buffer` pixels)
/// is left out of training, so validation never sees a pixel the model trained on. Windows flush
/// with a tile's right or bottom edge, and strides shorter than the window, overlap their
/// neighbours; without this they leaked into validation.
public struct SpatialSplit: Sendable, Equatable {
    public let train: [Int]
    public let validation: [Int]
    /// Training windows left out for touching a held-out one.
    public let dropped: Int
    /// True when every training window touched a held-out one, so the plain split was kept
    /// (a shard too small to split in space; `inspect` says so).
    public let fellBack: Bool

    /// `windows`: the shard's usable windows (dataset order); nil for data without geometry
    /// (So2Sat rows, chips), which keeps the plain split.
    public init(windows: [WindowRef]?, count: Int, fraction: Double, shard: String, buffer: Int) {
        let plain = holdOut(count: count, fraction: fraction, shard: shard)
        guard let windows, !plain.validation.isEmpty else {
            (train, validation, dropped, fellBack) = (plain.train, plain.validation, 0, false)
            return
        }
        // Held-out windows by (tile, cell of the window's side), so each training window checks
        // only the cells its reach can touch.
        let cell = max(windows.first?.size ?? 1, 1)
        var held: [Int: [Int: [WindowRef]]] = [:]
        for i in plain.validation {
            let w = windows[i]
            held[w.tile, default: [:]][Self.key(w.x / cell, w.y / cell), default: []].append(w)
        }
        func touches(_ w: WindowRef) -> Bool {
            guard let cells = held[w.tile] else { return false }
            let reach = (w.size + buffer) / cell + 1
            for cy in (w.y / cell - reach)...(w.y / cell + reach) {
                for cx in (w.x / cell - reach)...(w.x / cell + reach) {
                    for v in cells[Self.key(cx, cy)] ?? [] where Self.overlap(w, v, buffer: buffer) { return true }
                }
            }
            return false
        }
        let kept = plain.train.filter { !touches(windows[$0]) }
        if kept.isEmpty {
            (train, validation, dropped, fellBack) = (plain.train, plain.validation, 0, true)
        } else {
            (train, validation, dropped, fellBack) = (kept, plain.validation, plain.train.count - kept.count, false)
        }
    }

    static func key(_ x: Int, _ y: Int) -> Int { (y &* 1_000_003) &+ x }

    /// Whether two windows are of one tile and share a pixel, or come closer than `buffer` pixels.
    public static func overlap(_ a: WindowRef, _ b: WindowRef, buffer: Int) -> Bool {
        a.tile == b.tile && a.x < b.x + b.size + buffer && b.x < a.x + a.size + buffer
            && a.y < b.y + b.size + buffer && b.y < a.y + a.size + buffer
    }
}
