import CHDF5

/// Strings: scalar UTF-8 string datasets (JSON documents) and the string handling shared with
/// attributes.
///
/// Minnow writes fixed-length, null-padded UTF-8 strings (numpy's `S` dtype; h5py reads them as
/// `bytes`). They live with their object, where reads are bounds-checked; variable-length strings
/// live in HDF5's global heap, which has no checksum and whose damage can crash the library.
/// Variable-length strings written by other tools are still read.
extension HDF5File {
    /// Writes `string` as a scalar fixed-length UTF-8 string dataset (for JSON documents; h5py
    /// reads it as `bytes`: `f["config"][()].decode()`).
    public func write(string: String, to path: String) throws(HDF5Error) {
        let path = Self.absolute(path)
        let id = try writableHandle(path)
        try removeDataset(at: path)
        let bytes = stringBytes(string)
        let type = try fixedStringType(bytes: bytes.count, path)
        let space = try dataspace([], path)
        let links = try linkCreationList(path)
        let dataset = H5Dcreate2(id, path, type.raw, space.raw, links.raw, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT))
        guard dataset >= 0 else { throw failure("create the dataset", path) }
        let handle = HID(dataset)
        guard H5Dwrite(handle.raw, type.raw, minnow_H5S_ALL(), minnow_H5S_ALL(), hid_t(H5P_DEFAULT), bytes) >= 0 else {
            throw failure("write the dataset", path)
        }
    }

    /// Reads the string dataset at `path` (variable- or fixed-length, as h5py writes either).
    public func readString(_ path: String) throws(HDF5Error) -> String {
        let path = Self.absolute(path)
        let dataset = try openObject(path, expecting: .dataset)
        let stored = H5Dget_type(dataset.raw)
        guard stored >= 0 else { throw failure("read the datatype", path) }
        let storedType = HID(stored)
        let space = H5Dget_space(dataset.raw)
        guard space >= 0 else { throw failure("read the dataspace", path) }
        return try readString(storedType: storedType, space: HID(space), path: path) { type, buffer in
            H5Dread(dataset.raw, type, minnow_H5S_ALL(), minnow_H5S_ALL(), hid_t(H5P_DEFAULT), buffer)
        }
    }

    // MARK: Helpers shared with attributes

    /// The string type Minnow writes: fixed-length UTF-8 of `bytes` bytes, null-padded.
    func fixedStringType(bytes: Int, _ path: String) throws(HDF5Error) -> HID {
        try stringType(size: max(1, bytes), padding: H5T_STR_NULLPAD, path)
    }

    /// A UTF-8 string type of `size` bytes (or `H5T_VARIABLE`).
    private func stringType(size: Int, padding: H5T_str_t, _ path: String) throws(HDF5Error) -> HID {
        let type = H5Tcopy(minnow_H5T_C_S1())
        guard type >= 0 else { throw failure("make a string type", path) }
        let handle = HID(type)
        guard H5Tset_size(type, size) >= 0, H5Tset_cset(type, H5T_CSET_UTF8) >= 0, H5Tset_strpad(type, padding) >= 0 else {
            throw failure("make a string type", path)
        }
        return handle
    }

    /// The UTF-8 bytes of `string`, at least one (a lone 0 for the empty string).
    func stringBytes(_ string: String) -> [UInt8] {
        string.isEmpty ? [0] : Array(string.utf8)
    }

    /// Reads one string stored as `storedType` over `space`; `read` reads the whole object
    /// with the given memory type into the given buffer.
    func readString(storedType: HID, space: HID, path: String,
                    read: (hid_t, UnsafeMutableRawPointer) -> herr_t) throws(HDF5Error) -> String {
        guard H5Tget_class(storedType.raw) == H5T_STRING else {
            throw .dtypeMismatch(file: fileName, path: path, expected: "string", found: describeType(storedType.raw))
        }
        let points = H5Sget_simple_extent_npoints(space.raw)
        guard points == 1 else {
            throw .invalidContent(file: fileName, path: path, detail: "expected one string, found \(points)")
        }
        if H5Tis_variable_str(storedType.raw) > 0 {
            // Written by other tools (h5py stores Python `str` attributes this way).
            let type = try stringType(size: minnow_H5T_VARIABLE(), padding: H5T_STR_NULLTERM, path)
            var pointer: UnsafeMutablePointer<CChar>? = nil
            guard read(type.raw, &pointer) >= 0 else { throw failure("read the string", path) }
            defer { _ = H5Dvlen_reclaim(type.raw, space.raw, hid_t(H5P_DEFAULT), &pointer) }
            return pointer.map { String(cString: $0) } ?? ""
        }
        let size = H5Tget_size(storedType.raw)
        var fileSize: hsize_t = 0
        guard H5Fget_filesize(try handle(), &fileSize) >= 0, size <= fileSize else {
            throw .invalidContent(file: fileName, path: path, detail: "a string of \(size) bytes cannot be in this file (damaged file?)")
        }
        var bytes = [UInt8](repeating: 0, count: size)
        guard read(storedType.raw, &bytes) >= 0 else { throw failure("read the string", path) }
        let padding: UInt8 = H5Tget_strpad(storedType.raw) == H5T_STR_SPACEPAD ? 0x20 : 0
        let end = bytes.firstIndex(of: 0) ?? (bytes.lastIndex { $0 != padding }.map { $0 + 1 } ?? 0)
        return String(decoding: bytes[..<end], as: UTF8.self)
    }
}
