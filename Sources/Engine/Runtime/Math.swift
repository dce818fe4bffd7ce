#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

// libm entry points under fixed names, so op files need not import the platform module.
@inline(__always) public func _expf(_ x: Float) -> Float { expf(x) }
@inline(__always) public func _logf(_ x: Float) -> Float { logf(x) }
@inline(__always) public func _tanhf(_ x: Float) -> Float { tanhf(x) }
