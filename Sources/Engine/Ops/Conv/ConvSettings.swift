/// Kernel, stride, padding and dilation of a convolution: each either one value for every
/// spatial dim or one value per spatial dim (outermost first).
public struct ConvSettings: Sendable, Equatable {
    public var kernel: [Int]
    public var stride: [Int]
    public var padding: [Int]
    public var dilation: [Int]

    /// The value of `a` for padded spatial dim `j` (0 = D, 1 = H, 2 = W) of a tensor with
    /// `spatialRank` spatial dims; `missing` for the dims 1D/2D do not have.
    @inline(__always)
    static func at(_ a: [Int], _ j: Int, spatialRank: Int, missing: Int) -> Int {
        let k = j - 3 + spatialRank
        if k < 0 { return missing }
        return a.count == 1 ? a[0] : a[k]
    }

    /// Throws unless every list fits `spatialRank` and every value is in range.
    func validate(spatialRank sr: Int, layer: String) throws {
        for (what, a, least) in [("kernel", kernel, 1), ("stride", stride, 1), ("padding", padding, 0), ("dilation", dilation, 1)] {
            guard a.count == 1 || a.count == sr else {
                throw EngineError.parameter(layer: layer, message: "\(what) \(a) has \(a.count) values for \(sr) spatial dim(s)")
            }
            guard a.allSatisfy({ $0 >= least }) else {
                throw EngineError.parameter(layer: layer, message: "\(what) \(a) must be at least \(least)")
            }
        }
    }

    /// The checks Conv and ConvTranspose share: one N×C×spatial input of `dims` spatial dims
    /// (if fixed) and `inChannels` channels (if fixed), valid settings. Returns the spatial rank.
    func checkInput(_ inputs: [Shape], dims: Int?, outChannels: Int, inChannels: Int?, layer name: String) throws -> Int {
        try requireInputs(inputs, 1, layer: name)
        let x = inputs[0]
        let sr = x.rank - 2
        let form = "N×C×L, N×C×H×W or N×C×D×H×W"
        guard (1...3).contains(sr) else { throw EngineError.shape(layer: name, expected: form, got: "\(x)") }
        if let dims, dims != sr {
            throw EngineError.shape(layer: name, expected: "a \(dims)D input (rank \(dims + 2))", got: "\(x) (rank \(x.rank))")
        }
        guard outChannels >= 1 else { throw EngineError.parameter(layer: name, message: "outChannels \(outChannels) must be at least 1") }
        try validate(spatialRank: sr, layer: name)
        guard x.dims.allSatisfy({ $0 >= 1 }) else { throw EngineError.shape(layer: name, expected: "non-empty \(form)", got: "\(x)") }
        if let c = inChannels, c != x.channels {
            throw EngineError.shape(layer: name, expected: "\(c) input channels", got: "\(x) (\(x.channels) channels)")
        }
        return sr
    }

    /// Values for the spatial dims of a rank-`sr` input, for messages and parameter shapes.
    func list(_ a: [Int], spatialRank sr: Int) -> [Int] { a.count == 1 ? Array(repeating: a[0], count: sr) : a }
}
