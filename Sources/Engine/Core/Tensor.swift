/// A view of float32 data with a shape (layout: see `Shape`). Views point into arenas owned
/// by an `Executor`, a `ParameterStore` or a `HostTensor`; copying a view copies the pointer,
/// not the data. A view keeps its arena alive (`owner`), so a view outliving the object it
/// came from stays valid — Swift may end an object's lifetime right after its last use.
public struct Tensor: @unchecked Sendable {
    public let shape: Shape
    public let data: UnsafeMutablePointer<Float>
    /// The storage `data` points into, retained; nil for memory the caller manages.
    public let owner: AnyObject?

    public init(_ shape: Shape, _ data: UnsafeMutablePointer<Float>, owner: AnyObject? = nil) {
        self.shape = shape
        self.data = data
        self.owner = owner
    }

    public var count: Int { shape.count }
    public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: data, count: count) }

    public func zero() { data.update(repeating: 0, count: count) }
    public func copy(from src: UnsafePointer<Float>) { data.update(from: src, count: count) }
    public func fill(_ v: Float) { data.update(repeating: v, count: count) }
    public var array: [Float] { Array(buffer) }

    /// The same data seen with another shape of equal element count.
    public func reshaped(_ s: Shape) -> Tensor {
        precondition(s.count == count, "reshape \(shape) to \(s)")
        return Tensor(s, data, owner: owner)
    }
}

/// A tensor that owns its storage: for inputs, tests and tools.
public final class HostTensor: @unchecked Sendable {
    public let storage: FloatBuffer
    public let tensor: Tensor

    public init(_ shape: Shape) {
        storage = FloatBuffer(count: shape.count)
        tensor = storage.tensor(shape)
    }
    public convenience init(_ shape: Shape, _ values: [Float]) {
        precondition(values.count == shape.count, "\(values.count) values for shape \(shape)")
        self.init(shape)
        values.withUnsafeBufferPointer { tensor.copy(from: $0.baseAddress!) }
    }
    public var shape: Shape { tensor.shape }
    public var data: UnsafeMutablePointer<Float> { tensor.data }
    public var array: [Float] { tensor.array }
}
