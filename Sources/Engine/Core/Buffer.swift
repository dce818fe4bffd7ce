import Foundation

/// Owned, 64-byte aligned float storage, zero-initialised. Used for the few long-lived arenas
/// (parameters, gradients, activations, workspace); ops never allocate.
public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let base: UnsafeMutablePointer<Float>

    public init(count: Int) {
        self.count = count
        var raw: UnsafeMutableRawPointer?
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
            fatalError("out of memory allocating \(bytes) bytes")
        }
        base = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        base.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { free(base) }

    public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: base, count: count) }
    public func zero() { base.update(repeating: 0, count: count) }

    /// A view of `shape.count` floats from `offset`, keeping this buffer alive.
    public func tensor(_ shape: Shape, at offset: Int = 0) -> Tensor {
        precondition(offset >= 0 && offset + shape.count <= max(count, 1) || shape.count == 0, "view \(shape) at \(offset) outside a buffer of \(count)")
        return Tensor(shape, base + offset, owner: self)
    }
}
