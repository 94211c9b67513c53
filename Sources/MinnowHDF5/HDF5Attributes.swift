import CHDF5

/// Attributes: small named values (numbers, strings such as JSON) on a group or dataset.
///
/// `path` names the object ("/" is the root group). Setting an attribute that exists replaces it.
extension HDF5File {
    /// Sets the numeric attribute `name` of the object at `path`.
    public func setAttribute<T: HDF5Scalar>(_ name: String, _ value: T, at path: String = "/") throws(HDF5Error) {
        let (object, space, label) = try prepareAttribute(name, at: path)
        let type = T.hdf5ElementType
        let attribute = H5Acreate2(object.raw, name, type.fileType, space.raw, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT))
        guard attribute >= 0 else { throw failure("create the attribute", label) }
        let handle = HID(attribute)
        let status = withUnsafePointer(to: value) { H5Awrite(handle.raw, type.memoryType, $0) }
        guard status >= 0 else { throw failure("write the attribute", label) }
    }

    /// Sets the string attribute `name` of the object at `path` (fixed-length UTF-8; h5py reads
    /// it as `numpy.bytes_`: `f.attrs["config"].decode()`).
    public func setAttribute(_ name: String, _ value: String, at path: String = "/") throws(HDF5Error) {
        let (object, space, label) = try prepareAttribute(name, at: path)
        let bytes = stringBytes(value)
        let type = try fixedStringType(bytes: bytes.count, label)
        let attribute = H5Acreate2(object.raw, name, type.raw, space.raw, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT))
        guard attribute >= 0 else { throw failure("create the attribute", label) }
        let handle = HID(attribute)
        guard H5Awrite(handle.raw, type.raw, bytes) >= 0 else { throw failure("write the attribute", label) }
    }

    /// Reads the numeric attribute `name` of the object at `path`, checking its element type.
    public func attribute<T: HDF5Scalar>(_ name: String, at path: String = "/",
                                         as type: T.Type = T.self) throws(HDF5Error) -> T {
        let (attribute, storedType, space, label) = try openAttribute(name, at: path)
        guard elementType(of: storedType.raw) == T.hdf5ElementType else {
            throw .dtypeMismatch(file: fileName, path: label, expected: T.hdf5ElementType.rawValue,
                                 found: describeType(storedType.raw))
        }
        let points = H5Sget_simple_extent_npoints(space.raw)
        guard points == 1 else {
            throw .invalidContent(file: fileName, path: label, detail: "expected one value, found \(points)")
        }
        return try withUnsafeTemporaryAllocation(of: T.self, capacity: 1) { buffer throws(HDF5Error) in
            guard H5Aread(attribute.raw, T.hdf5ElementType.memoryType, buffer.baseAddress) >= 0 else {
                throw failure("read the attribute", label)
            }
            return buffer[0]
        }
    }

    /// Reads the string attribute `name` of the object at `path` (variable- or fixed-length).
    public func stringAttribute(_ name: String, at path: String = "/") throws(HDF5Error) -> String {
        let (attribute, storedType, space, label) = try openAttribute(name, at: path)
        return try readString(storedType: storedType, space: space, path: label) { type, buffer in
            H5Aread(attribute.raw, type, buffer)
        }
    }

    /// Whether the object at `path` exists and has an attribute `name`.
    public func hasAttribute(_ name: String, at path: String = "/") -> Bool {
        guard let object = try? openObject(path, expecting: nil) else { return false }
        return H5Aexists(object.raw, name) > 0
    }

    /// The names of the attributes of the object at `path`, sorted by name.
    public func attributeNames(at path: String = "/") throws(HDF5Error) -> [String] {
        let path = Self.absolute(path)
        let object = try openObject(path, expecting: nil)
        var info = H5O_info_t()
        guard H5Oget_info2(object.raw, &info, H5O_INFO_NUM_ATTRS) >= 0 else { throw failure("list the attributes", path) }
        var names: [String] = []
        for index in 0..<info.num_attrs {
            let length = H5Aget_name_by_idx(object.raw, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, hid_t(H5P_DEFAULT))
            guard length >= 0 else { throw failure("list the attributes", path) }
            var buffer = [CChar](repeating: 0, count: length + 1)
            guard H5Aget_name_by_idx(object.raw, ".", H5_INDEX_NAME, H5_ITER_INC, index,
                                     &buffer, buffer.count, hid_t(H5P_DEFAULT)) >= 0 else {
                throw failure("list the attributes", path)
            }
            names.append(String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    // MARK: Private

    /// How errors name attribute `name` of the object at `path`.
    private func attributeLabel(_ name: String, _ path: String) -> String {
        "\(Self.absolute(path)) attribute '\(name)'"
    }

    /// Opens the object at `path` for a new attribute `name` (removing an old one) and makes
    /// the scalar dataspace it will use.
    private func prepareAttribute(_ name: String, at path: String) throws(HDF5Error) -> (HID, HID, String) {
        let label = attributeLabel(name, path)
        _ = try writableHandle(label)
        let object = try openObject(path, expecting: nil)
        if H5Aexists(object.raw, name) > 0, H5Adelete(object.raw, name) < 0 {
            throw failure("replace the attribute", label)
        }
        return (object, try dataspace([], label), label)
    }

    /// Opens attribute `name` of the object at `path`, with its stored type and dataspace.
    private func openAttribute(_ name: String, at path: String) throws(HDF5Error) -> (HID, HID, HID, String) {
        let label = attributeLabel(name, path)
        let object = try openObject(path, expecting: nil)
        guard H5Aexists(object.raw, name) > 0 else {
            _ = HDF5Errors.drain()
            throw .missingAttribute(file: fileName, path: Self.absolute(path), name: name)
        }
        let attribute = H5Aopen(object.raw, name, hid_t(H5P_DEFAULT))
        guard attribute >= 0 else { throw failure("open the attribute", label) }
        let handle = HID(attribute)
        let type = H5Aget_type(attribute)
        guard type >= 0 else { throw failure("read the attribute's type", label) }
        let typeHandle = HID(type)
        let space = H5Aget_space(attribute)
        guard space >= 0 else { throw failure("read the attribute's dataspace", label) }
        return (handle, typeHandle, HID(space), label)
    }
}
