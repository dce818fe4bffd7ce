import DataIO
import Foundation
import TestSupport
import XCTest

/// kill -9 at an arbitrary moment, a corrupt latest checkpoint, a resume on another number of
/// ranks: the final weights are bit-identical to an uninterrupted run (exact mode).
final class TrainerResumeTests: XCTestCase {
    let long: [String: Any] = ["epochs": 8, "checkpoint": ["every_steps": 2, "keep": 3]]

    func testKillNineCorruptCheckpointAndResumeOnOtherRankCount() throws {
        let refDir = try TrainingRun.data + "/runs/resume-ref"
        let ref = try TrainingRun.mpirun(2, [try TrainingRun.config("resume-ref", runDir: refDir, extra: long)])
        XCTAssertEqual(ref.status, 0, ref.stdout + ref.stderr)

        let dir = try TrainingRun.data + "/runs/resume-kill"
        let cfg = try TrainingRun.config("resume-kill", runDir: dir, extra: long)
        let job = try TrainingRun.start(2, [cfg], log: TrainingRun.data + "/resume-kill-1.log")
        try TrainingRun.wait("the fifth checkpoint") { TrainingRun.checkpoints(dir).contains("ckpt-000005.h5") || !job.isRunning }
        XCTAssertTrue(job.isRunning, "the run ended before it could be killed")
        for pid in try TrainingRun.ranks(of: cfg) { kill(pid, SIGKILL) }
        job.waitUntilExit()
        XCTAssertNotEqual(job.terminationStatus, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/final/unet.h5"))

        // The newest checkpoint is damaged (truncated): the run must say so and use the one before.
        let saved = TrainingRun.checkpoints(dir)
        let latest = try XCTUnwrap(saved.last)
        let h = try FileHandle(forUpdating: URL(fileURLWithPath: "\(dir)/checkpoints/\(latest)"))
        try h.truncate(atOffset: 2000)
        try h.close()

        let resumed = try TrainingRun.mpirun(3, [cfg])
        XCTAssertEqual(resumed.status, 0, resumed.stdout + resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("\(latest) is unusable"), resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("resuming unet at round"), resumed.stdout)
        for model in ["unet", "resnet"] {
            XCTAssertEqual(try TrainingRun.weights("\(dir)/final/\(model).h5"), try TrainingRun.weights("\(refDir)/final/\(model).h5"),
                           "\(model): killed, resumed on 3 ranks from an older checkpoint, and different")
        }
        // metrics.jsonl holds each step once, as if the run had never been interrupted.
        func steps(_ d: String) throws -> [String] {
            try String(contentsOfFile: d + "/metrics.jsonl").split(separator: "\n").compactMap { line in
                guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], o["type"] as? String == "step" else { return nil }
                return "\(o["model"]!) \(o["round"]!) \(o["step"]!) \(o["loss"]!)"
            }
        }
        XCTAssertEqual(try steps(dir), try steps(refDir))
        // Nothing left to do: a third run says so by finishing at once with the same weights.
        XCTAssertTrue(TrainingRun.checkpoints(dir).count <= 3, "keep 3: \(TrainingRun.checkpoints(dir))")
    }

    func testRestartStartsOver() throws {
        let dir = try TrainingRun.data + "/runs/restart"
        // No validation windows at all: the run still ends (with no validation figure).
        let cfg = try TrainingRun.config("restart", runDir: dir, data: ["validation_fraction": 0])
        XCTAssertEqual(try TrainingRun.mpirun(1, [cfg]).status, 0)
        let again = try TrainingRun.mpirun(1, [cfg, "--restart"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertFalse(again.stdout.contains("resuming"), again.stdout)
        let resumed = try TrainingRun.mpirun(1, [cfg])
        XCTAssertTrue(resumed.stdout.contains("resuming"), resumed.stdout)
    }

    func testArchitectureChangeIsRefusedOnResume() throws {
        let dir = try TrainingRun.data + "/runs/archchange"
        XCTAssertEqual(try TrainingRun.mpirun(1, [try TrainingRun.config("archchange", runDir: dir)]).status, 0)
        let changed = try TrainingRun.config("archchange", runDir: dir, extra: ["models": [
            ["name": "unet", "model": ["arch": "unet", "dims": 2, "bands": 10, "classes": 8, "filters": 6, "levels": 2]],
            ["name": "resnet", "model": ["arch": "resnet", "stages": [1], "widths": [8], "stem": "small", "head": "pixel", "bands": 10, "classes": 8, "size": 15]],
        ]])
        let r = try TrainingRun.mpirun(1, [changed])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue((r.stdout + r.stderr).contains("models[0].model") && (r.stdout + r.stderr).contains("--restart"), r.stdout + r.stderr)
        // A safe change (more epochs) resumes.
        let more = try TrainingRun.config("archchange", runDir: dir, extra: ["epochs": 2])
        let ok = try TrainingRun.mpirun(1, [more])
        XCTAssertEqual(ok.status, 0, ok.stdout + ok.stderr)
        XCTAssertTrue(ok.stdout.contains("resuming unet at round 2"), ok.stdout)
    }

    /// Fast mode resumes exactly on the same number of ranks: one epoch, then the same command with
    /// two (a safe change: it resumes after the first), equals two epochs straight.
    func testFastModeResumesExactlyOnTheSameRanks() throws {
        let fast: [String: Any] = ["reduction": "fast", "epochs": 2]
        let straightDir = try TrainingRun.data + "/runs/fast-straight"
        XCTAssertEqual(try TrainingRun.mpirun(2, [try TrainingRun.config("fast-straight", runDir: straightDir, extra: fast)]).status, 0)
        let dir = try TrainingRun.data + "/runs/fast-resumed"
        var first = fast
        first["epochs"] = 1
        XCTAssertEqual(try TrainingRun.mpirun(2, [try TrainingRun.config("fast-resumed", runDir: dir, extra: first)]).status, 0)
        let second = try TrainingRun.mpirun(2, [try TrainingRun.config("fast-resumed", runDir: dir, extra: fast)])
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
        XCTAssertTrue(second.stdout.contains("resuming unet at round 2"), second.stdout)
        for model in ["unet", "resnet"] {
            XCTAssertEqual(try TrainingRun.weights("\(dir)/final/\(model).h5"), try TrainingRun.weights("\(straightDir)/final/\(model).h5"), model)
        }
    }
}
