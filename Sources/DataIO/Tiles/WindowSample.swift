import Engine

/// Preallocated buffers for one window, filled by `WindowReader.read`:
/// - `image`: C×S×S (or C×T×S×S for a time series), 0 where masked;
/// - `mask`: S×S, 1 where the pixel counts in the loss and the metrics, 0 where it does not
///   (NODATA or NaN in any band at any date, no label, no target, outside the grid);
/// - `proportions`: K×S×S class proportions summing to 1 on valid pixels, 0 where masked
///   (label mode `.proportions`);
/// - `hardLabels`: S×S class indices, −1 where masked (label mode `.hard`);
/// - `target`: R×S×S regression targets, 0 where masked (when targets are read);
/// - `dateMask`: T×S×S, 1 where the pixel has that date, 0 where it is missing or masked
///   (a time series read with `maskAnyDate` false); the image is 0 at missing dates.
public final class WindowSample {
    public let layout: SampleLayout
    public let image: Tensor
    public let mask: Tensor
    public let proportions: Tensor?
    public let hardLabels: UnsafeMutableBufferPointer<Int32>?
    public let target: Tensor?
    public let dateMask: Tensor?
    /// The window last read into the buffers.
    public internal(set) var window: WindowRef?
    /// Fraction of its pixels that count (mask = 1).
    public internal(set) var validFraction: Double = 0
    private let ownsLabels: Bool

    /// Allocates buffers for `layout`.
    public init(layout: SampleLayout) {
        self.layout = layout
        image = HostTensor(layout.imageShape).tensor
        mask = HostTensor(layout.maskShape).tensor
        proportions = layout.labels == .proportions ? HostTensor(layout.labelShape!).tensor : nil
        if layout.labels == .hard {
            let p = UnsafeMutablePointer<Int32>.allocate(capacity: layout.pixels)
            p.initialize(repeating: -1, count: layout.pixels)
            hardLabels = UnsafeMutableBufferPointer(start: p, count: layout.pixels)
        } else {
            hardLabels = nil
        }
        target = layout.targetShape.map { HostTensor($0).tensor }
        dateMask = layout.dateMaskShape.map { HostTensor($0).tensor }
        ownsLabels = true
    }

    /// Uses memory the caller owns (e.g. one sample's slot of a batch tensor): shapes must
    /// match the layout's.
    public init(layout: SampleLayout, image: Tensor, mask: Tensor, proportions: Tensor? = nil,
                hardLabels: UnsafeMutableBufferPointer<Int32>? = nil, target: Tensor? = nil, dateMask: Tensor? = nil) {
        precondition(image.count == layout.imageShape.count, "image \(image.shape) for layout \(layout.imageShape)")
        precondition(mask.count == layout.pixels, "mask \(mask.shape) for \(layout.maskShape)")
        precondition(layout.labels != .proportions || proportions?.count == layout.labelShape!.count, "proportions buffer")
        precondition(layout.labels != .hard || hardLabels?.count == layout.pixels, "hard label buffer")
        precondition((layout.targetShape?.count ?? 0) == (target?.count ?? 0), "target buffer")
        precondition((layout.dateMaskShape?.count ?? 0) == (dateMask?.count ?? 0), "date mask buffer")
        self.layout = layout
        self.image = image.reshaped(layout.imageShape)
        self.mask = mask.reshaped(layout.maskShape)
        self.proportions = proportions.map { $0.reshaped(layout.labelShape!) }
        self.hardLabels = hardLabels
        self.target = target.map { $0.reshaped(layout.targetShape!) }
        self.dateMask = dateMask.map { $0.reshaped(layout.dateMaskShape!) }
        ownsLabels = false
    }

    deinit { if ownsLabels, let h = hardLabels { h.baseAddress?.deallocate() } }

    /// Number of pixels that count.
    public var validPixels: Int {
        var n = 0
        for i in 0..<mask.count where mask.data[i] != 0 { n += 1 }
        return n
    }
}
