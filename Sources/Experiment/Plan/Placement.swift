import Engine
import Settings

/// Which ranks own which shard, and the groups of ranks that train together.
/// Default (no `ranks`/`hosts` in the config): with at least as many ranks as shards, rank r
/// owns shard r mod S (so each shard gets ⌊N/S⌋ or ⌈N/S⌉ ranks); with fewer ranks, shard s
/// belongs to rank s mod N. A *group* is a set of ranks that own the same shards; groups must not
/// overlap (two shards' owner sets are equal or disjoint).
public struct Placement: Sendable, Equatable {
    /// owners[s]: the ranks that own shard s, ascending.
    public let owners: [[Int]]
    /// The distinct owner sets, ordered by their lowest rank.
    public let groups: [[Int]]
    /// groupOfShard[s]: index into `groups`.
    public let groupOfShard: [Int]

    public init(shards: [DataConfig.Shard], worldSize n: Int, hosts: [String], file: String) throws {
        precondition(hosts.count == n)
        let s = shards.count
        var owners: [[Int]] = []
        for (i, sh) in shards.enumerated() {
            if let r = sh.ranks {
                if let bad = r.first(where: { $0 >= n }) {
                    throw ConfigError(key: "data.shards[\(i)].ranks", "names rank \(bad), but the job has \(n) rank\(n == 1 ? "" : "s") (0…\(n - 1))", context: file)
                }
                owners.append(Array(Set(r)).sorted())
            } else if let h = sh.hosts {
                let r = (0..<n).filter { h.contains(hosts[$0]) }
                guard !r.isEmpty else {
                    throw ConfigError(key: "data.shards[\(i)].hosts", "names \(h), but the job's ranks run on \(Array(Set(hosts)).sorted())", context: file)
                }
                owners.append(r)
            } else {
                owners.append(n >= s ? (0..<n).filter { $0 % s == i } : [i % n])
            }
        }
        var groups: [[Int]] = []
        var groupOf: [Int] = []
        for (i, o) in owners.enumerated() {
            if let g = groups.firstIndex(of: o) { groupOf.append(g); continue }
            if let g = groups.first(where: { !Set($0).isDisjoint(with: o) }) {
                throw ConfigError(key: "data.shards[\(i)]", "is owned by ranks \(o), which overlap another shard's owners \(g) without being equal: groups of ranks must not overlap", context: file)
            }
            groups.append(o)
            groupOf.append(groups.count - 1)
        }
        // Order groups by their lowest rank, so group indices do not depend on shard order.
        let order = groups.indices.sorted { groups[$0][0] < groups[$1][0] }
        let newIndex = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        self.owners = owners
        self.groups = order.map { groups[$0] }
        groupOfShard = groupOf.map { newIndex[$0]! }
    }

    /// The group `rank` belongs to (nil: it owns no shard).
    public func group(of rank: Int) -> Int? { groups.firstIndex { $0.contains(rank) } }
    /// The shards `rank` owns.
    public func shards(of rank: Int) -> [Int] { owners.indices.filter { owners[$0].contains(rank) } }
}
