/// Why an HDF5 file could not be read or written (MinnowCheckpoint calls it `CheckpointError`).
///
/// Every case names the file and, where there is one, the path inside the file, so a message
/// such as `run/last.h5: /model/features.0.conv/filter: expected shape [3, 3, 1, 16], found [3, 3, 1, 8]`
/// says what to look at without a debugger. HDF5's own error stack is never printed; its
/// innermost messages are kept in `detail`.
public enum HDF5Error: Error, CustomStringConvertible, Equatable, Sendable {
    /// No file at this location.
    case fileNotFound(file: String)
    /// The file exists but is not HDF5 (empty, text, another format).
    case notHDF5(file: String)
    /// The file has an HDF5 signature but cannot be opened: truncated or damaged.
    case corrupt(file: String, detail: String)
    /// The file could not be created (missing folder, no permission, ...).
    case cannotCreate(file: String, detail: String)
    /// Nothing exists at `path`; `expected` is what was looked for ("dataset", "group", "object").
    case missingObject(file: String, path: String, expected: String)
    /// The object at `path` has no attribute `name`.
    case missingAttribute(file: String, path: String, name: String)
    /// The object at `path` is a `found` ("group", "dataset", ...) where a `expected` was needed.
    case wrongKind(file: String, path: String, expected: String, found: String)
    /// The dataset at `path` has another shape than the one requested.
    case shapeMismatch(file: String, path: String, expected: [Int], found: [Int])
    /// The dataset or attribute at `path` stores another element type (for example "float64" for "float32").
    case dtypeMismatch(file: String, path: String, expected: String, found: String)
    /// The checkpoint was written by a newer (or unknown) version of the format.
    case unsupportedFormatVersion(file: String, found: Int64, supported: Int64)
    /// The value at `path` is readable but not valid for its use (malformed JSON, a bad name, ...).
    case invalidContent(file: String, path: String, detail: String)
    /// Another HDF5 failure while doing `operation` on `path`.
    case hdf5(file: String, path: String, operation: String, detail: String)
    /// A file-system failure (flush, rename, remove) while doing `operation`.
    case io(file: String, operation: String, detail: String)

    public var description: String {
        switch self {
        case let .fileNotFound(file):
            "\(file): no such file"
        case let .notHDF5(file):
            "\(file): not an HDF5 file (no HDF5 signature; empty, text or another format)"
        case let .corrupt(file, detail):
            "\(file): damaged or truncated HDF5 file: \(detail)"
        case let .cannotCreate(file, detail):
            "\(file): cannot create the file: \(detail)"
        case let .missingObject(file, path, expected):
            "\(file): \(path): missing \(expected)"
        case let .missingAttribute(file, path, name):
            "\(file): \(path): missing attribute '\(name)'"
        case let .wrongKind(file, path, expected, found):
            "\(file): \(path): expected a \(expected) here, found: \(found)"
        case let .shapeMismatch(file, path, expected, found):
            "\(file): \(path): expected shape \(expected), found \(found)"
        case let .dtypeMismatch(file, path, expected, found):
            "\(file): \(path): expected element type \(expected), found \(found)"
        case let .unsupportedFormatVersion(file, found, supported):
            "\(file): checkpoint format version \(found) is not supported (this Minnow reads versions up to \(supported))"
        case let .invalidContent(file, path, detail):
            "\(file): \(path): \(detail)"
        case let .hdf5(file, path, operation, detail):
            "\(file): \(path): HDF5 failed to \(operation): \(detail)"
        case let .io(file, operation, detail):
            "\(file): cannot \(operation): \(detail)"
        }
    }
}
