import Engine

/// A flip and a number of quarter turns, applied identically to every S×S plane of a window
/// (image, mask, labels, target): the 8 symmetries of the square.
public struct Augmentation: Sendable, Hashable, CustomStringConvertible {
    /// Mirror left–right (applied first).
    public var flip: Bool
    /// Quarter turns counter-clockwise, 0…3 (applied after the flip).
    public var rotations: Int

    public init(flip: Bool = false, rotations: Int = 0) {
        self.flip = flip
        self.rotations = ((rotations % 4) + 4) % 4
    }

    public static let identity = Augmentation()
    public var isIdentity: Bool { !flip && rotations == 0 }

    /// A seeded draw for window number `index` of epoch `epoch`: the same whichever thread,
    /// rank or order draws it.
    public static func random(seed: UInt64, epoch: Int, index: Int) -> Augmentation {
        let u = CounterRandom.uniform(key: CounterRandom.key(seed, UInt64(truncatingIfNeeded: epoch)), index: index)
        let k = min(Int(u * 8), 7)
        return Augmentation(flip: k & 4 != 0, rotations: k & 3)
    }

    /// For each output pixel of an S×S plane, the input pixel it takes.
    func sourceIndices(size s: Int) -> [Int32] {
        var out = [Int32](repeating: 0, count: s * s)
        for r in 0..<s {
            for c in 0..<s {
                var (y, x) = (r, c)
                // Undo the quarter turns: out(r, c) = in(c, s−1−r) for one turn counter-clockwise.
                for _ in 0..<rotations { (y, x) = (x, s - 1 - y) }
                if flip { x = s - 1 - x }
                out[r * s + c] = Int32(y * s + x)
            }
        }
        return out
    }

    public var description: String { (flip ? "flip + " : "") + "\(rotations * 90)°" }
}

/// Applies an augmentation to planes in place through a scratch plane.
struct PlaneTransformer {
    let size: Int
    let source: [Int32]

    init(_ a: Augmentation, size: Int) {
        self.size = size
        source = a.sourceIndices(size: size)
    }

    func apply<T>(_ plane: UnsafeMutablePointer<T>, scratch: UnsafeMutablePointer<T>) {
        let n = size * size
        source.withUnsafeBufferPointer { src in
            for i in 0..<n { scratch[i] = plane[Int(src[i])] }
        }
        plane.update(from: scratch, count: n)
    }
}
