import CHDF5
import Foundation

/// An HDF5 file: float32 datasets (optionally chunked and gzip-compressed), read whole or by a
/// range of the first dimension, and Int64 / string attributes on the file and on datasets.
///
/// Dataset names with '/' live in nested groups, created on demand; other characters ('.'
/// included) are kept as they are, so "enc1.conv1.weight" is `f["enc1.conv1.weight"]` in h5py.
/// Errors are `DataError`s naming the file and the dataset; HDF5's own error stack is
/// silenced. HDF5 1.10 here is not thread-safe: use it from one thread at a time.
public final class HDF5File {
    public enum Mode: Sendable {
        /// Open an existing file for reading.
        case readOnly
        /// Open an existing file for reading and writing.
        case readWrite
        /// Create the file, replacing any file of that name.
        case create
    }

    public let path: String
    public let mode: Mode
    private var fid: hid_t

    private static let setup: Void = {
        H5open()
        rs_h5_silence_errors()
    }()

    /// "1.10.8": the HDF5 library in use.
    public static var libraryVersion: String {
        var maj: UInt32 = 0, min: UInt32 = 0, rel: UInt32 = 0
        H5get_libversion(&maj, &min, &rel)
        return "\(maj).\(min).\(rel)"
    }

    public init(_ path: String, mode: Mode = .readOnly) throws {
        _ = Self.setup
        self.path = path
        self.mode = mode
        switch mode {
        case .create:
            fid = H5Fcreate(path, rs_h5f_acc_trunc(), rs_h5p_default(), rs_h5p_default())
            if fid < 0 { throw DataError(path: path, "cannot create HDF5 file (directory missing or not writable?)") }
        case .readOnly, .readWrite:
            guard FileManager.default.fileExists(atPath: path) else { throw DataError(path: path, "no such file") }
            guard H5Fis_hdf5(path) > 0 else { throw DataError(path: path, "not an HDF5 file (or unreadable)") }
            fid = H5Fopen(path, mode == .readOnly ? rs_h5f_acc_rdonly() : rs_h5f_acc_rdwr(), rs_h5p_default())
            if fid < 0 {
                throw DataError(path: path, mode == .readOnly ? "cannot open HDF5 file"
                                    : "cannot open HDF5 file for writing (read-only, or open elsewhere?)")
            }
        }
    }

    deinit { if fid >= 0 { H5Fclose(fid) } }

    /// Flushes and closes the file; later calls throw. Idempotent.
    public func close() throws {
        guard fid >= 0 else { return }
        let rc = H5Fclose(fid)
        fid = -1
        if rc < 0 { throw DataError(path: path, "cannot close (data may not be written)") }
    }

    /// Writes everything buffered so far to disk.
    public func flush() throws {
        try open()
        if H5Fflush(fid, H5F_SCOPE_GLOBAL) < 0 { throw DataError(path: path, "cannot flush") }
    }

    // MARK: Crash-safe writing

    /// Creates `path` so that it is never seen half-written: `body` fills `path.tmp`, which is
    /// flushed, synced and renamed over `path` only when `body` returned. On any error the
    /// temporary file is removed and `path` is left as it was.
    public static func writeAtomically(_ path: String, _ body: (HDF5File) throws -> Void) throws {
        let tmp = path + ".tmp"
        unlink(tmp)
        do {
            let file = try HDF5File(tmp, mode: .create)
            do {
                try body(file)
                try file.close()
            } catch {
                try? file.close()
                throw error
            }
            try syncFile(tmp)
            guard rename(tmp, path) == 0 else {
                throw DataError(path: path, "cannot rename \(tmp) into place: \(String(cString: strerror(errno)))")
            }
            syncDirectory(of: path)
        } catch {
            unlink(tmp)
            throw error
        }
    }

    private static func syncFile(_ path: String) throws {
        let fd = Foundation.open(path, O_RDONLY)
        guard fd >= 0 else { throw DataError(path: path, "cannot reopen to sync: \(String(cString: strerror(errno)))") }
        defer { Foundation.close(fd) }
        guard fsync(fd) == 0 else { throw DataError(path: path, "fsync failed: \(String(cString: strerror(errno)))") }
    }

    /// Makes the rename itself durable (best effort: some file systems refuse directory fsync).
    private static func syncDirectory(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let fd = Foundation.open(dir.isEmpty ? "." : dir, O_RDONLY)
        if fd >= 0 { fsync(fd); Foundation.close(fd) }
    }

    // MARK: Datasets

    /// True if a dataset, group or other object of that name exists.
    public func contains(_ name: String) -> Bool {
        guard fid >= 0 else { return false }
        // H5Lexists fails (rather than answering no) when a parent group is missing: walk down.
        var prefix = ""
        for part in name.split(separator: "/") {
            prefix += (prefix.isEmpty ? "" : "/") + part
            if H5Lexists(fid, prefix, rs_h5p_default()) <= 0 { return false }
        }
        return !prefix.isEmpty
    }

    /// Creates a group (and any missing parents); an existing group is left as it is. Lets a
    /// file hold an empty group that carries attributes (an optimizer without state).
    public func createGroup(_ name: String) throws {
        try open()
        guard !name.isEmpty else { throw DataError(path: path, "empty group name") }
        if contains(name) {
            // H5Gopen2 fails on anything but a group.
            let gid = H5Gopen2(fid, name, rs_h5p_default())
            guard gid >= 0 else { throw DataError(path: path, object: "group '\(name)'", "exists and is not a group") }
            H5Gclose(gid)
            return
        }
        let lcpl = H5Pcreate(rs_h5p_link_create())
        defer { H5Pclose(lcpl) }
        H5Pset_create_intermediate_group(lcpl, 1)
        let gid = H5Gcreate2(fid, name, lcpl, rs_h5p_default(), rs_h5p_default())
        guard gid >= 0 else { throw DataError(path: path, object: "group '\(name)'", "cannot create (name clashes with a dataset or file read-only?)") }
        H5Gclose(gid)
    }

    /// Creates a float32 dataset of `shape` (row-major, first dimension outermost). `chunks`
    /// (one size per dimension) makes it chunked; `gzipLevel` (0...9) compresses it, with chunks
    /// of whole rows of about 1 MB when none are given.
    public func createDataset(_ name: String, shape: [Int], chunks: [Int]? = nil, gzipLevel: Int? = nil) throws {
        try open()
        guard !name.isEmpty else { throw DataError(path: path, "empty dataset name") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw DataError(path: path, object: "dataset '\(name)'", "negative size in shape \(shape)") }
        if let c = chunks, c.count != shape.count || c.contains(where: { $0 < 1 }) {
            throw DataError(path: path, object: "dataset '\(name)'", "chunks \(c) do not fit shape \(shape)")
        }
        if let g = gzipLevel, !(0...9).contains(g) {
            throw DataError(path: path, object: "dataset '\(name)'", "gzip level \(g) outside 0...9")
        }
        if contains(name) { throw DataError(path: path, object: "dataset '\(name)'", "already exists") }

        var dims = shape.map { hsize_t($0) }
        let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(shape.count), &dims, nil)
        guard space >= 0 else { throw DataError(path: path, object: "dataset '\(name)'", "cannot make a dataspace of shape \(shape)") }
        defer { H5Sclose(space) }
        let lcpl = H5Pcreate(rs_h5p_link_create())
        defer { H5Pclose(lcpl) }
        H5Pset_create_intermediate_group(lcpl, 1)
        let dcpl = H5Pcreate(rs_h5p_dataset_create())
        defer { H5Pclose(dcpl) }
        var chunk = chunks
        if chunk == nil, gzipLevel != nil, !shape.isEmpty {
            let row = max(shape.dropFirst().reduce(1, *), 1) * 4
            chunk = [max(1, min(shape[0], (1 << 20) / row))] + shape.dropFirst().map { max($0, 1) }
        }
        if var c = chunk, !shape.isEmpty, !shape.contains(0) {
            var cd = zip(c, shape).map { hsize_t(Swift.min($0, $1)) }
            c = cd.map { Int($0) }
            if H5Pset_chunk(dcpl, Int32(c.count), &cd) < 0 {
                throw DataError(path: path, object: "dataset '\(name)'", "cannot set chunks \(c)")
            }
            if let g = gzipLevel, H5Pset_deflate(dcpl, UInt32(g)) < 0 {
                throw DataError(path: path, object: "dataset '\(name)'", "gzip filter unavailable")
            }
        }
        let did = H5Dcreate2(fid, name, rs_h5t_ieee_f32le(), space, lcpl, dcpl, rs_h5p_default())
        guard did >= 0 else { throw DataError(path: path, object: "dataset '\(name)'", "cannot create (name clashes with a group or file read-only?)") }
        H5Dclose(did)
    }

    /// Creates a float32 dataset and writes all of it.
    public func writeDataset(_ name: String, shape: [Int], _ data: UnsafeBufferPointer<Float>,
                             chunks: [Int]? = nil, gzipLevel: Int? = nil) throws {
        try createDataset(name, shape: shape, chunks: chunks, gzipLevel: gzipLevel)
        try write(name, data)
    }

    public func writeDataset(_ name: String, shape: [Int], _ values: [Float],
                             chunks: [Int]? = nil, gzipLevel: Int? = nil) throws {
        try values.withUnsafeBufferPointer { try writeDataset(name, shape: shape, $0, chunks: chunks, gzipLevel: gzipLevel) }
    }

    /// Writes a whole existing dataset; `data` must hold exactly its element count.
    public func write(_ name: String, _ data: UnsafeBufferPointer<Float>) throws {
        try withDataset(name) { did, shape in
            let n = shape.reduce(1, *)
            guard data.count == n else {
                throw DataError(path: path, object: "dataset '\(name)'", "writing \(data.count) values into shape \(shape) (\(n) values)")
            }
            if n > 0, H5Dwrite(did, rs_h5t_native_float(), rs_h5s_all(), rs_h5s_all(), rs_h5p_default(), data.baseAddress) < 0 {
                throw DataError(path: path, object: "dataset '\(name)'", "write failed")
            }
        }
    }

    /// Writes rows `rows` (a range of the first dimension) of an existing dataset.
    public func write(_ name: String, rows: Range<Int>, _ data: UnsafeBufferPointer<Float>) throws {
        try withDataset(name) { did, shape in
            try withRows(name, did, shape, rows, data.count) { mem, file in
                if H5Dwrite(did, rs_h5t_native_float(), mem, file, rs_h5p_default(), data.baseAddress) < 0 {
                    throw DataError(path: path, object: "dataset '\(name)'", "write of rows \(rows) failed")
                }
            }
        }
    }

    /// Dimensions of a dataset, outermost first.
    public func shape(of name: String) throws -> [Int] {
        try withDataset(name) { _, shape in shape }
    }

    /// Names (full paths without the leading '/') of every dataset in the file, groups walked
    /// recursively, in name order.
    public func datasetNames() throws -> [String] {
        try open()
        final class Box { var names: [String] = [] }
        let box = Box()
        let rc = H5Ovisit(fid, H5_INDEX_NAME, H5_ITER_INC, { _, name, info, data in
            guard let name, let info, let data else { return 0 }
            if info.pointee.type == H5O_TYPE_DATASET {
                Unmanaged<Box>.fromOpaque(data).takeUnretainedValue().names.append(String(cString: name))
            }
            return 0
        }, Unmanaged.passUnretained(box).toOpaque())
        guard rc >= 0 else { throw DataError(path: path, "cannot list the file's objects") }
        return box.names
    }

    /// Reads a whole dataset into `buffer` (exactly its element count), converting any
    /// numeric type (float64, integers) to float32.
    public func read(_ name: String, into buffer: UnsafeMutableBufferPointer<Float>) throws {
        try withDataset(name) { did, shape in
            try requireNumeric(did, name)
            let n = shape.reduce(1, *)
            guard buffer.count == n else {
                throw DataError(path: path, object: "dataset '\(name)'", "reading shape \(shape) (\(n) values) into a buffer of \(buffer.count)")
            }
            if n > 0, H5Dread(did, rs_h5t_native_float(), rs_h5s_all(), rs_h5s_all(), rs_h5p_default(), buffer.baseAddress) < 0 {
                throw DataError(path: path, object: "dataset '\(name)'", "read failed (file damaged?)")
            }
        }
    }

    /// Reads rows `rows` of the first dimension (a hyperslab: every other dimension whole).
    public func read(_ name: String, rows: Range<Int>, into buffer: UnsafeMutableBufferPointer<Float>) throws {
        try withDataset(name) { did, shape in
            try requireNumeric(did, name)
            try withRows(name, did, shape, rows, buffer.count) { mem, file in
                if H5Dread(did, rs_h5t_native_float(), mem, file, rs_h5p_default(), buffer.baseAddress) < 0 {
                    throw DataError(path: path, object: "dataset '\(name)'", "read of rows \(rows) failed (file damaged?)")
                }
            }
        }
    }

    public func readFloats(_ name: String) throws -> [Float] {
        let n = try shape(of: name).reduce(1, *)
        var out = [Float](repeating: 0, count: n)
        try out.withUnsafeMutableBufferPointer { try read(name, into: $0) }
        return out
    }

    public func readFloats(_ name: String, rows: Range<Int>) throws -> [Float] {
        let shape = try shape(of: name)
        let n = rows.count * shape.dropFirst().reduce(1, *)
        var out = [Float](repeating: 0, count: n)
        try out.withUnsafeMutableBufferPointer { try read(name, rows: rows, into: $0) }
        return out
    }

    // MARK: Attributes

    /// Sets (or replaces) an Int64 attribute on `object` (a dataset or group; nil: the file).
    public func setAttribute(_ key: String, _ value: Int64, on object: String? = nil) throws {
        var v = value
        try writeAttribute(key, on: object, fileType: rs_h5t_native_int64(), memType: rs_h5t_native_int64(), &v)
    }

    /// Sets (or replaces) a UTF-8 string attribute (variable length: h5py reads it as `str`).
    public func setAttribute(_ key: String, _ value: String, on object: String? = nil) throws {
        let type = H5Tcopy(rs_h5t_c_s1())
        defer { H5Tclose(type) }
        H5Tset_size(type, rs_h5t_variable())
        H5Tset_cset(type, H5T_CSET_UTF8)
        try value.withCString { cs in
            var p: UnsafePointer<CChar>? = cs
            try writeAttribute(key, on: object, fileType: type, memType: type, &p)
        }
    }

    /// The Int64 attribute `key` of `object` (nil: the file), or nil if it has none.
    public func int64Attribute(_ key: String, on object: String? = nil) throws -> Int64? {
        try withAttribute(key, on: object) { aid, what in
            let type = H5Aget_type(aid)
            defer { H5Tclose(type) }
            let cls = H5Tget_class(type)
            guard cls == H5T_INTEGER || cls == H5T_FLOAT else {
                throw DataError(path: path, object: what, "is not a number")
            }
            try requireScalar(aid, what)
            var v: Int64 = 0
            if H5Aread(aid, rs_h5t_native_int64(), &v) < 0 { throw DataError(path: path, object: what, "read failed") }
            return v
        }
    }

    /// The string attribute `key` of `object` (nil: the file), or nil if it has none. Reads
    /// fixed- and variable-length strings.
    public func stringAttribute(_ key: String, on object: String? = nil) throws -> String? {
        try withAttribute(key, on: object) { aid, what in
            let type = H5Aget_type(aid)
            defer { H5Tclose(type) }
            guard H5Tget_class(type) == H5T_STRING else { throw DataError(path: path, object: what, "is not a string") }
            try requireScalar(aid, what)
            if H5Tis_variable_str(type) > 0 {
                let mem = H5Tcopy(rs_h5t_c_s1())
                defer { H5Tclose(mem) }
                H5Tset_size(mem, rs_h5t_variable())
                H5Tset_cset(mem, H5Tget_cset(type))
                var p: UnsafeMutablePointer<CChar>?
                if H5Aread(aid, mem, &p) < 0 { throw DataError(path: path, object: what, "read failed") }
                defer { if let p { H5free_memory(p) } }
                return p.map { String(cString: $0) } ?? ""
            }
            let size = H5Tget_size(type)
            let mem = H5Tcopy(rs_h5t_c_s1())
            defer { H5Tclose(mem) }
            H5Tset_size(mem, size + 1)
            H5Tset_strpad(mem, H5T_STR_NULLTERM)
            var buf = [CChar](repeating: 0, count: size + 1)
            if H5Aread(aid, mem, &buf) < 0 { throw DataError(path: path, object: what, "read failed") }
            return String(cString: buf)
        }
    }

    /// Attribute names of `object` (nil: the file), in name order.
    public func attributeNames(on object: String? = nil) throws -> [String] {
        try withObject(object) { oid, _ in
            final class Box { var names: [String] = [] }
            let box = Box()
            var idx: hsize_t = 0
            _ = H5Aiterate2(oid, H5_INDEX_NAME, H5_ITER_INC, &idx, { _, name, _, data in
                if let name, let data { Unmanaged<Box>.fromOpaque(data).takeUnretainedValue().names.append(String(cString: name)) }
                return 0
            }, Unmanaged.passUnretained(box).toOpaque())
            return box.names
        }
    }

    // MARK: Internals

    private func open() throws {
        guard fid >= 0 else { throw DataError(path: path, "file is closed") }
    }

    private func withDataset<R>(_ name: String, _ body: (hid_t, [Int]) throws -> R) throws -> R {
        try open()
        guard contains(name) else { throw DataError(path: path, object: "dataset '\(name)'", "no such dataset") }
        let did = H5Dopen2(fid, name, rs_h5p_default())
        guard did >= 0 else { throw DataError(path: path, object: "dataset '\(name)'", "cannot open (not a dataset?)") }
        defer { H5Dclose(did) }
        let space = H5Dget_space(did)
        guard space >= 0 else { throw DataError(path: path, object: "dataset '\(name)'", "cannot read its shape") }
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        var dims = [hsize_t](repeating: 0, count: max(rank, 1))
        H5Sget_simple_extent_dims(space, &dims, nil)
        return try body(did, dims.prefix(rank).map { Int($0) })
    }

    /// Selects rows `rows` of the dataset and a matching memory space of `count` elements.
    private func withRows(_ name: String, _ did: hid_t, _ shape: [Int], _ rows: Range<Int>, _ count: Int,
                          _ body: (hid_t, hid_t) throws -> Void) throws {
        let what = "dataset '\(name)'"
        guard !shape.isEmpty else { throw DataError(path: path, object: what, "a scalar has no rows") }
        guard rows.lowerBound >= 0, rows.upperBound <= shape[0] else {
            throw DataError(path: path, object: what, "rows \(rows) outside 0..<\(shape[0]) (shape \(shape))")
        }
        let perRow = shape.dropFirst().reduce(1, *)
        guard count == rows.count * perRow else {
            throw DataError(path: path, object: what, "rows \(rows) of shape \(shape) are \(rows.count * perRow) values, buffer holds \(count)")
        }
        guard !rows.isEmpty, perRow > 0 else { return }
        let file = H5Dget_space(did)
        defer { H5Sclose(file) }
        var start = [hsize_t](repeating: 0, count: shape.count)
        start[0] = hsize_t(rows.lowerBound)
        var extent = shape.map { hsize_t($0) }
        extent[0] = hsize_t(rows.count)
        guard H5Sselect_hyperslab(file, H5S_SELECT_SET, &start, nil, &extent, nil) >= 0 else {
            throw DataError(path: path, object: what, "cannot select rows \(rows)")
        }
        let mem = H5Screate_simple(Int32(extent.count), &extent, nil)
        defer { H5Sclose(mem) }
        try body(mem, file)
    }

    private func requireNumeric(_ did: hid_t, _ name: String) throws {
        let type = H5Dget_type(did)
        defer { H5Tclose(type) }
        let cls = H5Tget_class(type)
        guard cls == H5T_FLOAT || cls == H5T_INTEGER else {
            throw DataError(path: path, object: "dataset '\(name)'", "is not numeric (cannot read as float32)")
        }
    }

    private func withObject<R>(_ object: String?, _ body: (hid_t, String) throws -> R) throws -> R {
        try open()
        let what = object.map { "'\($0)'" } ?? "file root"
        if let object, !contains(object) { throw DataError(path: path, object: what, "no such dataset or group") }
        let oid = H5Oopen(fid, object ?? ".", rs_h5p_default())
        guard oid >= 0 else { throw DataError(path: path, object: what, "cannot open") }
        defer { H5Oclose(oid) }
        return try body(oid, what)
    }

    private func withAttribute<R>(_ key: String, on object: String?, _ body: (hid_t, String) throws -> R) throws -> R? {
        try withObject(object) { oid, what in
            let label = "attribute '\(key)' of \(what)"
            let exists = H5Aexists(oid, key)
            guard exists >= 0 else { throw DataError(path: path, object: label, "cannot look it up") }
            guard exists > 0 else { return nil }
            let aid = H5Aopen(oid, key, rs_h5p_default())
            guard aid >= 0 else { throw DataError(path: path, object: label, "cannot open") }
            defer { H5Aclose(aid) }
            return try body(aid, label)
        }
    }

    private func requireScalar(_ aid: hid_t, _ what: String) throws {
        let space = H5Aget_space(aid)
        defer { H5Sclose(space) }
        guard H5Sget_simple_extent_npoints(space) == 1 else { throw DataError(path: path, object: what, "holds several values, expected one") }
    }

    private func writeAttribute(_ key: String, on object: String?, fileType: hid_t, memType: hid_t,
                                _ value: UnsafeRawPointer) throws {
        try withObject(object) { oid, what in
            let label = "attribute '\(key)' of \(what)"
            if H5Aexists(oid, key) > 0, H5Adelete(oid, key) < 0 {
                throw DataError(path: path, object: label, "cannot replace (file read-only?)")
            }
            let space = H5Screate(H5S_SCALAR)
            defer { H5Sclose(space) }
            let aid = H5Acreate2(oid, key, fileType, space, rs_h5p_default(), rs_h5p_default())
            guard aid >= 0 else { throw DataError(path: path, object: label, "cannot create (file read-only?)") }
            defer { H5Aclose(aid) }
            if H5Awrite(aid, memType, value) < 0 { throw DataError(path: path, object: label, "write failed") }
        }
    }
}
