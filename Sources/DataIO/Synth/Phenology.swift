import Engine
import Foundation

/// A calendar day (proleptic Gregorian), named YYYY-MM-DD like the date folders of a tile.
public struct CalendarDate: Sendable, Equatable, Comparable, CustomStringConvertible {
    public let year: Int, month: Int, day: Int

    /// Days since 1970-01-01 → date (Hinnant's civil_from_days).
    public init(daysSinceEpoch z0: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    public init(year: Int, month: Int, day: Int) {
        self.year = year; self.month = month; self.day = day
    }

    /// Days since 1970-01-01 (Hinnant's days_from_civil).
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Day of the year, 1 = January 1st.
    public var dayOfYear: Int { daysSinceEpoch - CalendarDate(year: year, month: 1, day: 1).daysSinceEpoch + 1 }

    public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }

    public static func < (a: CalendarDate, b: CalendarDate) -> Bool { a.daysSinceEpoch < b.daysSinceEpoch }
}

/// A season curve: greenness (0 dormant … 1 peak) over the day of the year, a double logistic
/// (green-up around `start`, senescence or harvest around `end`) on top of a floor `base`.
struct SeasonCurve: Sendable {
    var base: Float
    var amplitude: Float
    var start: Float
    var end: Float
    var rise: Float
    var fall: Float

    static let constant = SeasonCurve(base: 1, amplitude: 0, start: 0, end: 366, rise: 1, fall: 1)

    func greenness(dayOfYear t: Float) -> Float {
        let up = 1 / (1 + expf(-(t - start) / rise))
        let down = 1 / (1 + expf(-(t - end) / fall))
        return min(max(base + amplitude * (up - down), 0), 1)
    }
}

/// Vegetation follows a season: each class (and, for crops and forests, each field or stand)
/// has its own curve; a pixel's spectrum moves between its class's dormant and peak spectra
/// as the curve says (so NIR rises and red falls at green-up, and crop fields turn to bare soil
/// after harvest).
enum Phenology {
    /// Crop types a field may carry, with their calendars (day of year).
    static let crops: [(name: String, curve: SeasonCurve)] = [
        ("winter cereal", SeasonCurve(base: 0.05, amplitude: 0.95, start: 85, end: 195, rise: 10, fall: 7)),
        ("spring crop", SeasonCurve(base: 0, amplitude: 1, start: 130, end: 235, rise: 9, fall: 8)),
        ("maize", SeasonCurve(base: 0, amplitude: 1, start: 165, end: 275, rise: 8, fall: 9)),
        ("ley / fallow", SeasonCurve(base: 0.3, amplitude: 0.5, start: 90, end: 290, rise: 15, fall: 15)),
    ]

    /// The season curve of class `value` on the field or stand `cell` (a hash).
    static func curve(class value: UInt8, cell: UInt64) -> SeasonCurve {
        let jitter = (Noise.unit(SplitMix64.mix(cell ^ 0x5EA5)) - 0.5) * 24  // ±12 days between fields
        var c: SeasonCurve
        switch value {
        case ClassSpectra.cropland:
            c = crops[Int(SplitMix64.mix(cell ^ 0xC0) % UInt64(crops.count))].curve
        case ClassSpectra.forest:
            // About a third of stands are evergreen (conifers): green all year.
            let evergreen = Noise.unit(SplitMix64.mix(cell ^ 0xE7)) < 0.35
            c = evergreen ? SeasonCurve(base: 0.82, amplitude: 0.18, start: 100, end: 300, rise: 12, fall: 15)
                          : SeasonCurve(base: 0.15, amplitude: 0.85, start: 115, end: 290, rise: 7, fall: 10)
        case ClassSpectra.grassland:
            c = SeasonCurve(base: 0.35, amplitude: 0.65, start: 85, end: 280, rise: 14, fall: 18)
        case ClassSpectra.urban:
            c = SeasonCurve(base: 0.35, amplitude: 0.65, start: 105, end: 295, rise: 10, fall: 12)
        case ClassSpectra.shrubland:
            // Mediterranean scrub: green in spring, dry in summer.
            c = SeasonCurve(base: 0.3, amplitude: 0.7, start: 60, end: 175, rise: 12, fall: 15)
        default:
            return .constant
        }
        c.start += jitter
        c.end += jitter
        return c
    }

    /// `count` acquisition dates of one region: a summer day when `count` is 1, otherwise
    /// spread evenly over the growing season (late March to early November) on the sensor's
    /// revisit cycle (`revisit` days), at least one cycle apart.
    static func dates(count: Int, revisit: Int, key: UInt64) -> [CalendarDate] {
        let year = 2019 + Int(SplitMix64.mix(key ^ 0x1EA) % 5)
        let jan1 = CalendarDate(year: year, month: 1, day: 1).daysSinceEpoch
        let phase = Int(SplitMix64.mix(key ^ 0xFA5E) % UInt64(revisit))
        if count == 1 { return [CalendarDate(daysSinceEpoch: jan1 + 185 + phase + revisit * Int(SplitMix64.mix(key) % 3))] }
        let step = max(revisit, (220 / count) / revisit * revisit)
        let first = 80 + step / 2 + phase
        return (0..<count).map { CalendarDate(daysSinceEpoch: jan1 + first + $0 * step) }
    }
}
