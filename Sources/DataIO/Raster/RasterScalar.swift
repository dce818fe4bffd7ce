import CGDAL

/// Pixel types rstrain reads and writes through GDAL.
public protocol RasterScalar {
    static var gdalType: GDALDataType { get }
}
extension Float: RasterScalar { public static var gdalType: GDALDataType { GDT_Float32 } }
extension Double: RasterScalar { public static var gdalType: GDALDataType { GDT_Float64 } }
extension UInt8: RasterScalar { public static var gdalType: GDALDataType { GDT_Byte } }
extension Int16: RasterScalar { public static var gdalType: GDALDataType { GDT_Int16 } }
extension UInt16: RasterScalar { public static var gdalType: GDALDataType { GDT_UInt16 } }
extension Int32: RasterScalar { public static var gdalType: GDALDataType { GDT_Int32 } }
