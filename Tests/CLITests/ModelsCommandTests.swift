import Foundation
import TestSupport
import XCTest

/// `rstrain models`, `models show` and `bench workload` as a user runs them.
final class ModelsCommandTests: XCTestCase {
    func rstrain(_ args: [String]) throws -> ProcessResult { try runProcess(try rstrainBinary(), args) }

    func temp(_ json: String) throws -> String {
        let path = try scratch() + "/model.json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testListAsJSONHasEveryBuilderWithParameters() throws {
        let r = try rstrain(["models", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let unet = try XCTUnwrap(doc.first { $0["arch"] as? String == "unet" })
        let params = try XCTUnwrap(unet["parameters"] as? [[String: Any]])
        let filters = try XCTUnwrap(params.first { $0["key"] as? String == "filters" })
        XCTAssertEqual(filters["default"] as? Int, 16)
        XCTAssertEqual(filters["type"] as? String, "integer")
        XCTAssertEqual(params.first { $0["key"] as? String == "levels" }?["default"] as? String, "auto")
        XCTAssertEqual(params.first { $0["key"] as? String == "upsampling" }?["choices"] as? [String], ["transpose", "nearest", "bilinear"])
    }

    func testShowPrintsLayersAndTheReferenceTotal() throws {
        let path = try temp(#"{"arch": "unet", "filters": 16, "levels": 3, "bands": 10, "classes": 10}"#)
        let r = try rstrain(["models", "show", path, "--input", "10x64x64"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("Total params: 484,602"), r.stdout)
        // Column widths follow the longest layer type (batchnorm_relu): match across the padding.
        XCTAssertNotNil(r.stdout.range(of: #"enc1\.conv1 \(conv2d\) +16×64×64 +1,456"#, options: .regularExpression), r.stdout)
        XCTAssertTrue(r.stdout.contains("cat1 (concat)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("Output: 10×64×64 per sample"), r.stdout)
    }

    /// Each convolution's planned algorithm, by the rule of `Conv.algorithm` (docs/engine.md):
    /// the U-Net's 10-band first layer in tap rows, its 16-channel 3×3 convolutions in Winograd,
    /// its 1×1 head multiplying in place, the transposed 2×2/2 upsampling by col2im.
    func testShowPrintsEachConvolutionsAlgorithm() throws {
        let path = try temp(#"{"arch": "unet", "filters": 16, "levels": 3, "bands": 10, "classes": 10}"#)
        let r = try rstrain(["models", "show", path, "--input", "10x64x64"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for (layer, algorithm) in [(#"enc1\.conv1 \(conv2d\)"#, "implicit-gemm"), (#"enc1\.conv2 \(conv2d\)"#, "winograd"),
                                   (#"up1 \(conv_transpose2d\)"#, "col2im"), (#"head \(conv2d\)"#, "pointwise")] {
            XCTAssertNotNil(r.stdout.range(of: layer + #" +[0-9×]+ +[0-9,]+  "# + algorithm + #"(\s|$)"#, options: .regularExpression),
                            "\(layer): \(algorithm)\n" + r.stdout)
        }
        XCTAssertNotNil(r.stdout.range(of: #"pool1 \(maxpool\) +[0-9×]+ +0\n"#, options: .regularExpression), r.stdout)
        XCTAssertTrue(r.stdout.contains("Algorithms: as planned for a micro-batch of 8 (--batch)"), r.stdout)
        // ResNet's 3×3 convolutions on 2×2 maps: per tap with samples side by side; one sample
        // alone has nothing to group, and Winograd takes them.
        let resnet = try temp(#"{"arch": "resnet", "variant": "so2sat", "bands": 10, "classes": 17}"#)
        let grouped = try rstrain(["models", "show", resnet, "--input", "10x32x32"])
        let single = try rstrain(["models", "show", resnet, "--input", "10x32x32", "--batch", "1"])
        XCTAssertEqual(grouped.status, 0, grouped.stderr)
        XCTAssertEqual(single.status, 0, single.stderr)
        let last3x3 = #"layer4\.2\.conv2 \(conv2d\) +512×2×2 +[0-9,]+  "#
        XCTAssertNotNil(grouped.stdout.range(of: last3x3 + #"taps(\s|$)"#, options: .regularExpression), grouped.stdout)
        XCTAssertNotNil(single.stdout.range(of: last3x3 + #"winograd(\s|$)"#, options: .regularExpression), single.stdout)
        let zero = try rstrain(["models", "show", resnet, "--batch", "0"])
        XCTAssertNotEqual(zero.status, 0)
        XCTAssertTrue(zero.stderr.contains("--batch"), zero.stderr)
    }

    func testShowRefusesBadSettingsNamingTheKey() throws {
        let typo = try rstrain(["models", "show", try temp(#"{"arch": "unet", "filtres": 16}"#)])
        XCTAssertNotEqual(typo.status, 0)
        XCTAssertTrue(typo.stderr.contains("'filtres'"), typo.stderr)
        let levels = try rstrain(["models", "show", try temp(#"{"arch": "unet", "levels": 4}"#), "--input", "10x40x40"])
        XCTAssertNotEqual(levels.status, 0)
        XCTAssertTrue(levels.stderr.contains("'levels'"), levels.stderr)
        let notJSON = try rstrain(["models", "show", try temp("{arch: unet")])
        XCTAssertNotEqual(notJSON.status, 0)
        XCTAssertTrue(notJSON.stderr.contains("not valid JSON"), notJSON.stderr)
        let shape = try rstrain(["models", "show", try temp(#"{"arch": "unet"}"#), "--input", "10xbig"])
        XCTAssertNotEqual(shape.status, 0)
        XCTAssertTrue(shape.stderr.contains("--input"), shape.stderr)
    }

    func testBenchWorkloadReportsTheReferenceParameterCount() throws {
        let r = try rstrain(["bench", "workload", "unet3d_t8_64", "--json", "--seconds", "0.1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = try XCTUnwrap(r.stdout.split(separator: "\n").last)
        let j = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(j["params"] as? Int, 87_362)
        XCTAssertEqual(j["reference_params"] as? Int, 87_362)
        XCTAssertGreaterThan(j["samples_per_s"] as? Double ?? 0, 0)
        XCTAssertNotNil(j["blas_core"] as? String)
        let bad = try rstrain(["bench", "workload", "resnet9000"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("unknown workload"), bad.stderr)
    }
}
