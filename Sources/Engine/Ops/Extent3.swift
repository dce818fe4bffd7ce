/// Spatial extents shared by the pooling, upsampling and crop/pad ops: 1D and 2D inputs are
/// seen as 3D with leading sizes of 1 (as `Shape.spatial3`), so one kernel serves all three.

/// Three spatial extents (D, H, W); absent leading dims are 1.
public struct Extent3: Sendable, Equatable, CustomStringConvertible {
    public var d: Int, h: Int, w: Int
    public init(_ d: Int, _ h: Int, _ w: Int) { self.d = d; self.h = h; self.w = w }
    public var count: Int { d * h * w }
    public var description: String { "\(d)×\(h)×\(w)" }

    /// The spatial dims of an N×C×... shape, as `Shape.spatial3` gives them, without allocating
    /// (forward/backward re-derive geometry on every call).
    @inline(__always)
    public init(spatialOf s: Shape) {
        let r = s.rank
        self.init(r >= 5 ? s[r - 3] : 1, r >= 4 ? s[r - 2] : 1, r >= 3 ? s[r - 1] : 1)
    }

    /// A per-spatial-dim setting placed in (D, H, W): one value applies to every dim, otherwise
    /// `v` holds one value per spatial dim; dims the input lacks get `fill`.
    @inline(__always)
    public init(setting v: [Int], rank: Int, fill: Int) {
        @inline(__always) func at(_ i: Int) -> Int {
            let k = i - (3 - rank)
            return k < 0 ? fill : (v.count == 1 ? v[0] : v[k])
        }
        self.init(at(0), at(1), at(2))
    }

    /// Throws unless a per-spatial-dim setting has one value or one per spatial dim of `s`, all ≥ `min`.
    static func check(_ v: [Int], for s: Shape, min: Int, what: String, layer: String) throws {
        let rank = s.rank - 2
        guard v.count == 1 || v.count == rank else {
            throw EngineError.parameter(layer: layer, message: "\(what) \(v) has \(v.count) values for the \(rank) spatial dim(s) of input \(s)")
        }
        guard v.allSatisfy({ $0 >= min }) else {
            throw EngineError.parameter(layer: layer, message: "\(what) \(v) must be ≥ \(min)")
        }
    }

    /// Throws unless `s` is N×C×L, N×C×H×W or N×C×D×H×W with no zero dimension.
    static func requireSpatial(_ s: Shape, layer: String) throws {
        guard (3...5).contains(s.rank), s.dims.allSatisfy({ $0 > 0 }) else {
            throw EngineError.shape(layer: layer, expected: "N×C×L, N×C×H×W or N×C×D×H×W", got: "\(s)")
        }
    }
}
