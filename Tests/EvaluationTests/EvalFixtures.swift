import DataIO
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The hand-made 4×4 pair the evaluation tests score (values worked out in EvalMetricsTests).
/// NODATA is 255 in both files; the reference also holds a 9, outside 0..<3.
enum EvalFixture {
    static let geoTransform = [500_000.0, 10, 0, 5_000_000, 0, -10]
    static let N: UInt8 = 255

    /// y0: 0 0 1 9 / y1: 0 0 1 1 / y2: 2 2 1 1 / y3: 2 2 2 N
    static let reference: [UInt8] = [0, 0, 1, 9,
                                     0, 0, 1, 1,
                                     2, 2, 1, 1,
                                     2, 2, 2, N]
    /// y0: 0 0 0 1 / y1: 0 1 1 1 / y2: 2 2 1 1 / y3: N 2 1 1
    static let prediction: [UInt8] = [0, 0, 0, 1,
                                      0, 1, 1, 1,
                                      2, 2, 1, 1,
                                      N, 2, 1, 1]

    /// Writes prediction.tif and reference.tif to `dir`; returns their paths.
    static func write(to dir: String) throws -> (prediction: String, reference: String) {
        let p = dir + "/prediction.tif", r = dir + "/reference.tif"
        try GeoTIFF.write(p, width: 4, height: 4, bands: 1, data: prediction, geoTransform: geoTransform,
                          projection: "EPSG:32633", noData: 255, tileSize: 16)
        try GeoTIFF.write(r, width: 4, height: 4, bands: 1, data: reference, geoTransform: geoTransform,
                          projection: "EPSG:32633", noData: 255, tileSize: 16)
        return (p, r)
    }

    /// Category names and a colour table (RGB triples) for the reference, in GDAL's side file
    /// (.aux.xml) form.
    static func nameClasses(_ reference: String, _ names: [String], colors: [(Int, Int, Int)] = []) throws {
        let cats = names.map { "      <Category>\($0.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;"))</Category>\n" }.joined()
        var table = ""
        if !colors.isEmpty {
            table = "    <ColorTable>\n" + colors.map { "      <Entry c1=\"\($0.0)\" c2=\"\($0.1)\" c3=\"\($0.2)\" c4=\"255\"/>\n" }.joined() + "    </ColorTable>\n"
        }
        let xml = "<PAMDataset>\n  <PAMRasterBand band=\"1\">\n    <CategoryNames>\n\(cats)    </CategoryNames>\n\(table)  </PAMRasterBand>\n</PAMDataset>\n"
        try xml.write(toFile: reference + ".aux.xml", atomically: true, encoding: .utf8)
    }
}

/// Element names and attributes of an XML document, in order, and the text of each `<text>`
/// element joined by line breaks; throws if it does not parse.
final class XMLElements: NSObject, XMLParserDelegate {
    private(set) var elements: [(name: String, attributes: [String: String])] = []
    private(set) var text = ""
    private var open: [String] = []

    init(_ data: Data) throws {
        super.init()
        let parser = XMLParser(data: data)
        parser.delegate = self
        guard parser.parse() else {
            throw NSError(domain: "XML", code: 1, userInfo: [NSLocalizedDescriptionKey: "does not parse: \(String(describing: parser.parserError))"])
        }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append((name, attributes))
        open.append(name)
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if open.popLast() == "text" { text += "\n" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { if open.last == "text" { text += string } }
}
