/// A bad setting in a JSON document (model, schedule, run config). `key` is the path of the
/// key at fault ("model.levels", "schedule.min_lr"), so the user knows exactly what to fix.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let key: String
    public let message: String
    /// What was being read ("model unet", "learning-rate schedule").
    public let context: String
    public init(key: String, _ message: String, context: String = "config") {
        self.key = key
        self.message = message
        self.context = context
    }
    public var description: String { "\(context): key '\(key)' \(message)" }
    /// The same error seen from the enclosing object's key `parent`.
    public func nested(in parent: String) -> ConfigError { ConfigError(key: "\(parent).\(key)", message, context: context) }
}
