/// A tensor's dimensions, outermost first.
///
/// rstrain's layout is row-major and channels-first, batch outermost:
///   dense      N×F
///   1D         N×C×L          (time series: L = dates)
///   2D         N×C×H×W
///   3D         N×C×D×H×W      (image time series: D = dates)
/// The last dimension is contiguous. Spatial ops see 1D and 2D as 3D with leading
/// spatial sizes of 1 (see `spatial3`), so one kernel serves all three.
public struct Shape: Hashable, CustomStringConvertible, Sendable {
    public var dims: [Int]

    public init(_ dims: [Int]) { self.dims = dims }
    public init(_ dims: Int...) { self.dims = dims }

    public var rank: Int { dims.count }
    public var count: Int { dims.reduce(1, *) }
    public subscript(i: Int) -> Int {
        get { dims[i] }
        set { dims[i] = newValue }
    }

    /// Batch size (first dimension).
    public var batch: Int { dims[0] }
    /// Channels (second dimension) of an N×C×... tensor.
    public var channels: Int { dims[1] }
    /// Spatial dimensions (after N and C).
    public var spatial: [Int] { Array(dims.dropFirst(2)) }
    /// Spatial dimensions padded on the left with 1s to (D, H, W).
    public var spatial3: (d: Int, h: Int, w: Int) {
        let s = spatial
        precondition(s.count <= 3, "spatial3 of a rank-\(rank) shape")
        let p = [Int](repeating: 1, count: 3 - s.count) + s
        return (p[0], p[1], p[2])
    }
    /// Elements per sample (all but the batch dimension).
    public var perSample: Int { dims.dropFirst().reduce(1, *) }

    public var description: String { dims.map(String.init).joined(separator: "×") }
}
