import Engine

/// The shapes of one window sample (S = window size, C = bands, T = dates, K = classes,
/// R = target bands).
public struct SampleLayout: Sendable, Equatable {
    public let channels: Int
    public let dates: Int
    public let size: Int
    /// True when the tiles are time series: the image is C×T×S×S (else C×S×S).
    public let timeSeries: Bool
    public let labels: TileOptions.LabelMode
    public let classes: Int
    public let targetBands: Int
    /// True when a sample carries a date mask: a time series read with
    /// `TileOptions.maskAnyDate` false, whose pixels may lack some dates.
    public let dateMask: Bool

    /// C×S×S, or C×T×S×S for a time series (rstrain's 3D layout without the batch: bands
    /// outermost, then dates).
    public var imageShape: Shape { timeSeries ? Shape(channels, dates, size, size) : Shape(channels, size, size) }
    /// S×S: 1 where the pixel counts, 0 where it is masked.
    public var maskShape: Shape { Shape(size, size) }
    /// K×S×S class proportions (`.proportions`), S×S class indices (`.hard`), nil (`.none`).
    public var labelShape: Shape? {
        switch labels {
        case .none: return nil
        case .proportions: return Shape(classes, size, size)
        case .hard: return Shape(size, size)
        }
    }
    /// R×S×S, or nil when no target is read.
    public var targetShape: Shape? { targetBands > 0 ? Shape(targetBands, size, size) : nil }
    /// T×S×S: 1 where the pixel has that date (every band valid), 0 where it does not; nil
    /// unless `dateMask`.
    public var dateMaskShape: Shape? { dateMask ? Shape(dates, size, size) : nil }
    /// Pixels per window.
    public var pixels: Int { size * size }
}
