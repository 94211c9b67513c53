import CHDF5
import Foundation

/// What an HDF5 path names.
public enum HDF5ObjectKind: String, Sendable {
    case group, dataset
    /// A named datatype or another object Minnow does not write.
    case other = "other object"
}

/// An open HDF5 file: groups, datasets and attributes addressed by paths such as
/// `/model/features.0.conv/filter` (a leading `/` is optional).
///
/// Every failure throws a `HDF5Error` naming the file and the path; HDF5's own error
/// printing is turned off. The file closes when the object goes away, or earlier with `close()`.
/// Use one `HDF5File` from one thread at a time (the library itself is thread-safe).
public final class HDF5File {
    /// Where the file is.
    public let url: URL
    /// `true` for files made with `create(at:)`, `false` for `open(_:)` (read-only).
    public let isWritable: Bool
    /// The HDF5 file identifier; -1 once closed.
    private var id: hid_t

    /// The file's path, as error messages name it.
    var fileName: String { url.path }

    private init(url: URL, id: hid_t, isWritable: Bool) {
        self.url = url
        self.id = id
        self.isWritable = isWritable
    }

    deinit {
        if id >= 0 {
            HDF5Errors.silence()
            _ = H5Fclose(id)
        }
    }

    /// Creates an empty file at `url` for writing, replacing any file there.
    public static func create(at url: URL) throws(HDF5Error) -> HDF5File {
        HDF5Errors.silence()
        let access = try fileAccessList(for: url.path)
        // The HDF5 1.10 object formats: all metadata, including the index of each dataset's
        // chunk, carries checksums, so damage is detected rather than misread. Readable by
        // HDF5 1.10 and later (h5py's wheels bundle 1.12 or newer).
        guard H5Pset_libver_bounds(access.raw, H5F_LIBVER_V110, H5F_LIBVER_V110) >= 0 else {
            throw .cannotCreate(file: url.path, detail: HDF5Errors.drain())
        }
        let id = H5Fcreate(url.path, minnow_H5F_ACC_TRUNC(), hid_t(H5P_DEFAULT), access.raw)
        guard id >= 0 else { throw .cannotCreate(file: url.path, detail: HDF5Errors.drain()) }
        return HDF5File(url: url, id: id, isWritable: true)
    }

    /// Opens the HDF5 file at `url` read-only.
    ///
    /// Throws `.fileNotFound` when nothing is there, `.notHDF5` for files without the HDF5
    /// signature (empty, text), `.corrupt` for HDF5 files that cannot be opened (truncated).
    public static func open(_ url: URL) throws(HDF5Error) -> HDF5File {
        HDF5Errors.silence()
        let file = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
            throw .fileNotFound(file: file)
        }
        guard !isDirectory.boolValue else { throw .notHDF5(file: file) }
        let signature = H5Fis_hdf5(file)
        if signature == 0 { throw .notHDF5(file: file) }
        if signature < 0 { throw .io(file: file, operation: "read the file", detail: HDF5Errors.drain()) }
        let access = try fileAccessList(for: file)
        let id = H5Fopen(file, minnow_H5F_ACC_RDONLY(), access.raw)
        guard id >= 0 else { throw .corrupt(file: file, detail: HDF5Errors.drain()) }
        return HDF5File(url: url, id: id, isWritable: false)
    }

    /// Default file access, except that file locking is skipped on file systems without it
    /// (network and overlay mounts) instead of failing.
    private static func fileAccessList(for file: String) throws(HDF5Error) -> HID {
        let list = H5Pcreate(minnow_H5P_FILE_ACCESS())
        guard list >= 0, H5Pset_file_locking(list, true, true) >= 0 else {
            throw .hdf5(file: file, path: "/", operation: "make a file access list", detail: HDF5Errors.drain())
        }
        return HID(list)
    }

    /// Writes every buffered change to the operating system (not yet to the disk: see `writeAtomically`).
    public func flush() throws(HDF5Error) {
        let id = try handle()
        guard H5Fflush(id, H5F_SCOPE_GLOBAL) >= 0 else { throw failure("flush the file", "/") }
    }

    /// Closes the file; later calls do nothing. Reads and writes after closing throw.
    public func close() throws(HDF5Error) {
        guard id >= 0 else { return }
        HDF5Errors.silence()
        let status = H5Fclose(id)
        id = -1
        guard status >= 0 else { throw failure("close the file", "/") }
    }

    // MARK: Groups and paths

    /// Creates the group at `path` and any missing parents; an existing group is kept.
    public func createGroup(_ path: String) throws(HDF5Error) {
        let path = Self.absolute(path)
        switch try lookup(path) {
        case .group: return
        case let found?: throw .wrongKind(file: fileName, path: path, expected: "group", found: found.rawValue)
        case nil: break
        }
        let id = try writableHandle(path)
        let linkList = try linkCreationList(path)
        let group = H5Gcreate2(id, path, linkList.raw, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT))
        guard group >= 0 else { throw failure("create the group", path) }
        _ = H5Gclose(group)
    }

    /// What `path` names, or nil when nothing is there (or the file is closed or damaged there).
    public func kind(of path: String) -> HDF5ObjectKind? {
        (try? lookup(path)) ?? nil
    }

    /// Whether a group, dataset or other object exists at `path`.
    public func exists(_ path: String) -> Bool { kind(of: path) != nil }

    /// The names of the members of the group at `path` (groups and datasets), sorted by name.
    public func members(of path: String = "/") throws(HDF5Error) -> [String] {
        let path = Self.absolute(path)
        let group = try openObject(path, expecting: .group)
        var info = H5G_info_t()
        guard H5Gget_info(group.raw, &info) >= 0 else { throw failure("read the group", path) }
        var names: [String] = []
        for index in 0..<info.nlinks {
            let length = H5Lget_name_by_idx(group.raw, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, hid_t(H5P_DEFAULT))
            guard length >= 0 else { throw failure("list the group", path) }
            var buffer = [CChar](repeating: 0, count: length + 1)
            guard H5Lget_name_by_idx(group.raw, ".", H5_INDEX_NAME, H5_ITER_INC, index,
                                     &buffer, buffer.count, hid_t(H5P_DEFAULT)) >= 0 else {
                throw failure("list the group", path)
            }
            names.append(String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return names
    }

    // MARK: Shared helpers

    /// `path` with a leading `/` and no trailing one.
    static func absolute(_ path: String) -> String {
        "/" + path.split(separator: "/").joined(separator: "/")
    }

    /// The open file's identifier; throws once the file is closed. Silences HDF5's error printing
    /// for the calling thread, so every operation starts here.
    func handle() throws(HDF5Error) -> hid_t {
        guard id >= 0 else {
            throw .io(file: fileName, operation: "use the file", detail: "it has been closed")
        }
        HDF5Errors.silence()
        return id
    }

    /// `handle()`, for operations that write `path`.
    func writableHandle(_ path: String) throws(HDF5Error) -> hid_t {
        let id = try handle()
        guard isWritable else {
            throw .hdf5(file: fileName, path: path, operation: "write", detail: "the file is open read-only")
        }
        return id
    }

    /// What `path` names, or nil when nothing is there; throws when HDF5 cannot tell (a damaged file).
    func lookup(_ path: String) throws(HDF5Error) -> HDF5ObjectKind? {
        let id = try handle()
        var kind = HDF5ObjectKind.group
        var prefix = ""
        // H5Lexists fails (rather than answering no) below a missing or non-group parent: walk down.
        for component in Self.absolute(path).split(separator: "/") {
            guard kind == .group else { return nil }
            prefix += "/" + component
            let exists = H5Lexists(id, prefix, hid_t(H5P_DEFAULT))
            if exists == 0 { return nil }
            guard exists > 0 else { throw failure("look up the path", prefix) }
            let object = H5Oopen(id, prefix, hid_t(H5P_DEFAULT))
            guard object >= 0 else { throw failure("open the object", prefix) }
            switch H5Iget_type(object) {
            case H5I_GROUP: kind = .group
            case H5I_DATASET: kind = .dataset
            default: kind = .other
            }
            _ = H5Oclose(object)
        }
        return kind
    }

    /// Opens the object at `path`, checking that it is an `expected` when one is given.
    func openObject(_ path: String, expecting expected: HDF5ObjectKind?) throws(HDF5Error) -> HID {
        let id = try handle()
        let path = Self.absolute(path)
        guard let kind = try lookup(path) else {
            throw .missingObject(file: fileName, path: path, expected: expected?.rawValue ?? "object")
        }
        if let expected, kind != expected {
            throw .wrongKind(file: fileName, path: path, expected: expected.rawValue, found: kind.rawValue)
        }
        let object = H5Oopen(id, path, hid_t(H5P_DEFAULT))
        guard object >= 0 else { throw failure("open the \(kind.rawValue)", path) }
        return HID(object)
    }

    /// A link creation list that creates missing parent groups.
    func linkCreationList(_ path: String) throws(HDF5Error) -> HID {
        let list = H5Pcreate(minnow_H5P_LINK_CREATE())
        guard list >= 0, H5Pset_create_intermediate_group(list, 1) >= 0 else {
            throw failure("make a link creation list", path)
        }
        return HID(list)
    }

    /// The error for a failed HDF5 call, with HDF5's own messages as detail.
    func failure(_ operation: String, _ path: String) -> HDF5Error {
        .hdf5(file: fileName, path: path, operation: operation, detail: HDF5Errors.drain())
    }
}
