import CHDF5
import Foundation

/// Datasets of numbers with their real shapes: float32, int8, uint8, int32, int64 and uint64
/// arrays (the tensor mapping is MinnowCheckpoint's).
///
/// Writing creates missing parent groups and replaces an existing dataset at the same path.
/// Reading checks the element type (no silent conversion from float64 or int32) and, when
/// given, the shape.
extension HDF5File {
    /// Writes `values` as a dataset of `shape` (default: one axis of `values.count`; `[]` is an
    /// HDF5 scalar).
    public func write<T: HDF5Scalar>(_ values: [T], shape: [Int]? = nil, to path: String) throws(HDF5Error) {
        let shape = shape ?? [values.count]
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == values.count else {
            throw .invalidContent(file: fileName, path: Self.absolute(path),
                                  detail: "shape \(shape) does not hold \(values.count) values")
        }
        var result: Result<Void, HDF5Error> = .success(())
        values.withUnsafeBufferPointer { buffer in
            result = Result { () throws(HDF5Error) in
                try writeDataset(buffer.baseAddress, shape: shape, type: T.hdf5ElementType, to: path)
            }
        }
        try result.get()
    }

    /// Reads the dataset at `path` as `T`, with its shape, checking the shape against
    /// `expectedShape` when one is given.
    public func read<T: HDF5Scalar>(_ path: String, as type: T.Type = T.self,
                                    expectedShape: [Int]? = nil) throws(HDF5Error) -> (shape: [Int], values: [T]) {
        let (dataset, shape) = try openDataset(path, type: T.hdf5ElementType, expectedShape: expectedShape)
        let count = shape.reduce(1, *)
        var status: herr_t = 0
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            status = readAll(dataset, T.hdf5ElementType, into: buffer.baseAddress, count: count)
            initialized = status >= 0 ? count : 0
        }
        guard status >= 0 else { throw failure("read the dataset", Self.absolute(path)) }
        return (shape, values)
    }

    /// The shape of the dataset at `path` (`[]` for an HDF5 scalar).
    public func shape(of path: String) throws(HDF5Error) -> [Int] {
        let path = Self.absolute(path)
        let dataset = try openObject(path, expecting: .dataset)
        return try extent(of: dataset, path)
    }

    // MARK: Helpers shared with strings and attributes

    /// A simple dataspace of `shape`, or a scalar one for `[]`.
    func dataspace(_ shape: [Int], _ path: String) throws(HDF5Error) -> HID {
        let space = shape.isEmpty
            ? H5Screate(H5S_SCALAR)
            : H5Screate_simple(Int32(shape.count), shape.map { hsize_t($0) }, nil)
        guard space >= 0 else { throw failure("make a dataspace of shape \(shape)", path) }
        return HID(space)
    }

    /// The extent of a dataset's dataspace: `[]` for a scalar.
    func extent(of dataset: HID, _ path: String) throws(HDF5Error) -> [Int] {
        let space = H5Dget_space(dataset.raw)
        guard space >= 0 else { throw failure("read the dataspace", path) }
        let handle = HID(space)
        switch H5Sget_simple_extent_type(handle.raw) {
        case H5S_SCALAR:
            return []
        case H5S_SIMPLE:
            let rank = Int(H5Sget_simple_extent_ndims(handle.raw))
            var dims = [hsize_t](repeating: 0, count: rank)
            guard rank >= 0, H5Sget_simple_extent_dims(handle.raw, &dims, nil) >= 0 else {
                throw failure("read the dataspace", path)
            }
            let shape = dims.compactMap { Int(exactly: $0) }
            guard shape.count == rank else {
                throw .invalidContent(file: fileName, path: path, detail: "the stored shape \(dims) is too large (damaged file?)")
            }
            return shape
        default:
            throw .invalidContent(file: fileName, path: path, detail: "the dataset holds no values (null dataspace)")
        }
    }

    // MARK: Private

    private func writeDataset(_ data: UnsafeRawPointer?, shape: [Int], type: HDF5ElementType,
                              to path: String) throws(HDF5Error) {
        let path = Self.absolute(path)
        let id = try writableHandle(path)
        try removeDataset(at: path)
        let space = try dataspace(shape, path)
        let links = try linkCreationList(path)
        let creation = try checksummedLayout(shape, elementSize: H5Tget_size(type.fileType), path)
        let dataset = H5Dcreate2(id, path, type.fileType, space.raw, links.raw, creation.raw, hid_t(H5P_DEFAULT))
        guard dataset >= 0 else { throw failure("create the dataset", path) }
        let handle = HID(dataset)
        guard shape.reduce(1, *) > 0 else { return }
        guard H5Dwrite(handle.raw, type.memoryType, minnow_H5S_ALL(), minnow_H5S_ALL(), hid_t(H5P_DEFAULT), data) >= 0 else {
            throw failure("write the dataset", path)
        }
    }

    /// Chunked storage with a Fletcher-32 checksum per chunk, so damaged data fails to read
    /// instead of loading changed values; chunks of at most 1 GiB along the first axis.
    /// Scalars and empty datasets (which cannot be chunked) keep the default layout.
    private func checksummedLayout(_ shape: [Int], elementSize: Int, _ path: String) throws(HDF5Error) -> HID {
        let list = H5Pcreate(minnow_H5P_DATASET_CREATE())
        guard list >= 0 else { throw failure("make a dataset creation list", path) }
        let handle = HID(list)
        guard !shape.isEmpty, !shape.contains(0) else { return handle }
        let rowBytes = shape.dropFirst().reduce(elementSize, *)
        var chunk = shape.map { hsize_t($0) }
        chunk[0] = hsize_t(max(1, min(shape[0], (1 << 30) / rowBytes)))
        guard H5Pset_chunk(list, Int32(shape.count), chunk) >= 0, H5Pset_fletcher32(list) >= 0 else {
            throw failure("set up a checksummed layout", path)
        }
        return handle
    }

    /// Unlinks the dataset at `path` so it can be written again; refuses to replace a group.
    func removeDataset(at path: String) throws(HDF5Error) {
        switch try lookup(path) {
        case nil:
            return
        case .dataset:
            guard H5Ldelete(try handle(), path, hid_t(H5P_DEFAULT)) >= 0 else { throw failure("replace the dataset", path) }
        case let found?:
            throw .wrongKind(file: fileName, path: path, expected: "dataset", found: found.rawValue)
        }
    }

    /// Opens the dataset at `path` after checking its element type and, if given, its shape.
    private func openDataset(_ path: String, type: HDF5ElementType,
                             expectedShape: [Int]?) throws(HDF5Error) -> (HID, [Int]) {
        let path = Self.absolute(path)
        let dataset = try openObject(path, expecting: .dataset)
        let stored = H5Dget_type(dataset.raw)
        guard stored >= 0 else { throw failure("read the datatype", path) }
        let storedType = HID(stored)
        guard elementType(of: storedType.raw) == type else {
            throw .dtypeMismatch(file: fileName, path: path, expected: type.rawValue, found: describeType(storedType.raw))
        }
        let shape = try extent(of: dataset, path)
        if let expectedShape, expectedShape != shape {
            throw .shapeMismatch(file: fileName, path: path, expected: expectedShape, found: shape)
        }
        try checkStorage(of: dataset, shape: shape, elementSize: H5Tget_size(storedType.raw), path: path)
        return (dataset, shape)
    }

    /// Guards reads against damaged headers: a shape too large to allocate, or unchunked data
    /// that the file does not hold, is reported instead of read.
    private func checkStorage(of dataset: HID, shape: [Int], elementSize: Int, path: String) throws(HDF5Error) {
        let damaged = { (detail: String) in HDF5Error.invalidContent(file: self.fileName, path: path, detail: detail) }
        var bytes = elementSize
        for extent in shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: extent)
            guard !overflow, UInt64(product) <= ProcessInfo.processInfo.physicalMemory else {
                throw damaged("the stored shape \(shape) is too large to read (damaged file?)")
            }
            bytes = product
        }
        guard bytes > 0 else { return }
        let creationList = H5Dget_create_plist(dataset.raw)
        guard creationList >= 0 else { throw failure("read the dataset's layout", path) }
        guard H5Pget_layout(HID(creationList).raw) != H5D_CHUNKED else { return }
        var fileSize: hsize_t = 0
        guard H5Fget_filesize(try handle(), &fileSize) >= 0 else { throw failure("read the file size", path) }
        let stored = H5Dget_storage_size(dataset.raw)
        guard stored >= UInt64(bytes), stored <= fileSize else {
            throw damaged("shape \(shape) needs \(bytes) bytes, the file stores \(stored) for it (damaged or truncated file)")
        }
    }

    /// Reads all `count` elements of `dataset` (nothing to read for an empty one).
    private func readAll(_ dataset: HID, _ type: HDF5ElementType, into buffer: UnsafeMutableRawPointer?, count: Int) -> herr_t {
        guard count > 0 else { return 0 }
        return H5Dread(dataset.raw, type.memoryType, minnow_H5S_ALL(), minnow_H5S_ALL(), hid_t(H5P_DEFAULT), buffer)
    }
}
