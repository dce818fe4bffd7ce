/// What `GradientReducer.reduce` rejects. Each case is detected from values every rank of the
/// group shares, so every rank throws the same error and none is left waiting in a collective.
public enum ReductionError: Error, CustomStringConvertible, Equatable {
    /// `totalTerms` is negative or beyond Int32 (the exact mode sends it as Int32).
    case invalidTotalTerms(Int)
    /// Ranks passed different `totalTerms`.
    case totalTermsDisagree(min: Int, max: Int)
    /// The ranks added `added` terms in all, but `totalTerms` says `expected`.
    case termCountMismatch(expected: Int, added: Int)

    public var description: String {
        switch self {
        case let .invalidTotalTerms(n):
            return "gradient reduction: totalTerms \(n) is out of range (0...\(Int32.max))"
        case let .totalTermsDisagree(lo, hi):
            return "gradient reduction: ranks disagree on totalTerms (from \(lo) to \(hi)); every rank must pass the same count"
        case let .termCountMismatch(expected, added):
            return "gradient reduction: the ranks added \(added) terms in all, but totalTerms is \(expected)"
        }
    }
}
