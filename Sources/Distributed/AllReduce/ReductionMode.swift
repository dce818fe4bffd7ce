/// How a step's gradient is summed over the ranks of a group (the config's `"reduction"`).
/// - fast: float sums; the result depends on how the terms are spread over ranks.
/// - exact: fixed-point Int64 sums; the result is bit-identical whatever the number of ranks
///   and whichever rank added which term (see `GradientReducer`).
public enum ReductionMode: String, Sendable, CaseIterable {
    case fast, exact
}
