import DataIO
import XCTest
@testable import Experiment

/// Held-out windows never share a pixel with training windows: windows at half-window stride
/// overlap their neighbours, and the split leaves out of training every window touching a
/// held-out one (and, with a buffer, every window coming closer than the buffer).
final class SpatialSplitTests: XCTestCase {
    /// Two 128×128 tiles of 32 px windows at stride 16: 7 × 7 windows each.
    let windows: [WindowRef] = (0..<2).flatMap { t in
        (0..<7).flatMap { y in (0..<7).map { x in WindowRef(tile: t, x: 16 * x, y: 16 * y, size: 32) } }
    }

    /// Pairs (training, held-out) sharing a pixel or closer than `buffer`, counted by brute force.
    func touching(_ s: SpatialSplit, buffer: Int) -> Int {
        var n = 0
        for t in s.train { for v in s.validation {
            let (a, b) = (windows[t], windows[v])
            guard a.tile == b.tile else { continue }
            let gapX = max(b.x - (a.x + a.size), a.x - (b.x + b.size)), gapY = max(b.y - (a.y + a.size), a.y - (b.y + b.size))
            if gapX < buffer && gapY < buffer { n += 1 }
        } }
        return n
    }

    func testNoTrainingWindowTouchesAHeldOutOne() {
        let plain = holdOut(count: windows.count, fraction: 0.1, shard: "s")
        for buffer in [0, 8] {
            let s = SpatialSplit(windows: windows, count: windows.count, fraction: 0.1, shard: "s", buffer: buffer)
            XCTAssertFalse(s.fellBack)
            XCTAssertEqual(s.validation, plain.validation, "the held-out windows are the plain split's")
            XCTAssertEqual(touching(s, buffer: buffer), 0, "buffer \(buffer)")
            XCTAssertEqual(s.train.count + s.dropped, plain.train.count)
            XCTAssertGreaterThan(s.dropped, 0, "overlapping windows were left out")
            // Nothing left out that did not touch: every dropped window touches a held-out one.
            let dropped = Set(plain.train).subtracting(s.train)
            for d in dropped {
                XCTAssertTrue(s.validation.contains { v in
                    let (a, b) = (windows[d], windows[v])
                    return a.tile == b.tile && SpatialSplit.overlap(a, b, buffer: buffer)
                })
            }
        }
        // A buffer wider than the tiles leaves nothing to train on: the plain split is kept, and said.
        XCTAssertTrue(SpatialSplit(windows: windows, count: windows.count, fraction: 0.1, shard: "s", buffer: 200).fellBack)
        // The plain split leaks: some of its training windows share pixels with held-out ones.
        let leaky = SpatialSplit(windows: nil, count: windows.count, fraction: 0.1, shard: "s", buffer: 0)
        XCTAssertEqual(leaky.train, plain.train)
        XCTAssertGreaterThan(touching(leaky, buffer: 0), 0)
    }

    func testNonOverlappingWindowsLoseNothingWithoutABuffer() {
        let tiled = (0..<16).map { WindowRef(tile: 0, x: 32 * ($0 % 4), y: 32 * ($0 / 4), size: 32) }
        let s = SpatialSplit(windows: tiled, count: tiled.count, fraction: 0.25, shard: "t", buffer: 0)
        XCTAssertEqual(s.dropped, 0)
        XCTAssertEqual(s.train.count + s.validation.count, 16)
    }

    func testAShardTooSmallToSplitInSpaceKeepsThePlainSplit() {
        let two = [WindowRef(tile: 0, x: 0, y: 0, size: 32), WindowRef(tile: 0, x: 16, y: 0, size: 32)]
        let s = SpatialSplit(windows: two, count: 2, fraction: 0.5, shard: "u", buffer: 0)
        XCTAssertTrue(s.fellBack)
        XCTAssertEqual(s.train.count, 1)
        XCTAssertEqual(s.validation.count, 1)
    }
}
