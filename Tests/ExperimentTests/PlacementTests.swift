import XCTest
@testable import Experiment

final class PlacementTests: XCTestCase {
    func shards(_ n: Int) -> [DataConfig.Shard] {
        (0..<n).map { DataConfig.Shard(path: "s\($0)", name: "s\($0)", ranks: nil, hosts: nil, rows: nil) }
    }

    func testDefaultPlacement() throws {
        let four = try Placement(shards: shards(2), worldSize: 4, hosts: Array(repeating: "h", count: 4), file: "c.json")
        XCTAssertEqual(four.owners, [[0, 2], [1, 3]])
        XCTAssertEqual(four.groups, [[0, 2], [1, 3]])
        XCTAssertEqual(four.shards(of: 3), [1])
        let one = try Placement(shards: shards(3), worldSize: 1, hosts: ["h"], file: "c.json")
        XCTAssertEqual(one.owners, [[0], [0], [0]])
        XCTAssertEqual(one.groups, [[0]])
        XCTAssertEqual(one.groupOfShard, [0, 0, 0])
        let two = try Placement(shards: shards(3), worldSize: 2, hosts: ["a", "b"], file: "c.json")
        XCTAssertEqual(two.owners, [[0], [1], [0]])
    }

    func testExplicitRanksAndHosts() throws {
        var s = shards(2)
        s[0].hosts = ["b"]
        s[1].ranks = [0]
        let p = try Placement(shards: s, worldSize: 3, hosts: ["a", "b", "b"], file: "c.json")
        XCTAssertEqual(p.owners, [[1, 2], [0]])
        XCTAssertEqual(p.groups, [[0], [1, 2]], "groups ordered by their lowest rank")
        XCTAssertEqual(p.groupOfShard, [1, 0])
    }

    func testRefusals() {
        var s = shards(2)
        s[1].ranks = [4]
        XCTAssertThrowsError(try Placement(shards: s, worldSize: 2, hosts: ["a", "a"], file: "c.json")) {
            XCTAssertTrue("\($0)".contains("data.shards[1].ranks") && "\($0)".contains("rank 4"), "\($0)")
        }
        s = shards(2)
        s[0].ranks = [0, 1]
        s[1].ranks = [1]
        XCTAssertThrowsError(try Placement(shards: s, worldSize: 2, hosts: ["a", "a"], file: "c.json")) {
            XCTAssertTrue("\($0)".contains("overlap"), "\($0)")
        }
        s = shards(1)
        s[0].hosts = ["nowhere"]
        XCTAssertThrowsError(try Placement(shards: s, worldSize: 1, hosts: ["a"], file: "c.json")) {
            XCTAssertTrue("\($0)".contains("nowhere"), "\($0)")
        }
    }
}
