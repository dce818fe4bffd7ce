/// One named check with its outcome, as reported by `rstrain doctor`.
struct DoctorCheck: Codable, Equatable {
    var name: String
    var ok: Bool
    var detail: String
    /// Ranks on which it failed (filled when merging the ranks' reports).
    var failedRanks: [Int]?

    init(_ name: String, ok: Bool, _ detail: String) {
        self.name = name
        self.ok = ok
        self.detail = detail
    }

    /// Runs `body`; a thrown error is a failed check carrying the error's text.
    static func run(_ name: String, _ body: () throws -> (ok: Bool, detail: String)) -> DoctorCheck {
        do {
            let r = try body()
            return DoctorCheck(name, ok: r.ok, r.detail)
        } catch {
            return DoctorCheck(name, ok: false, "\(error)")
        }
    }

    /// Merges the same list of checks from every rank (rank order): a check passes only if it
    /// passed everywhere; the detail is rank 0's, or the first failing rank's.
    static func merge(_ perRank: [[DoctorCheck]]) -> [DoctorCheck] {
        guard let first = perRank.first else { return [] }
        return first.indices.map { i in
            var merged = first[i]
            var failed: [Int] = []
            for (rank, checks) in perRank.enumerated() {
                guard i < checks.count, checks[i].name == merged.name else {
                    failed.append(rank)
                    continue
                }
                if !checks[i].ok {
                    if failed.isEmpty { merged.detail = "rank \(rank): \(checks[i].detail)" }
                    failed.append(rank)
                }
            }
            merged.ok = failed.isEmpty
            merged.failedRanks = failed.isEmpty ? nil : failed
            return merged
        }
    }
}
