import CHDF5

/// An HDF5 identifier that is released when the last reference goes away (`H5Idec_ref`
/// closes groups, datasets, dataspaces, datatypes, attributes and property lists alike).
final class HID {
    let raw: hid_t

    init(_ raw: hid_t) { self.raw = raw }

    deinit { _ = H5Idec_ref(raw) }
}

/// HDF5's error stack: silenced (never printed) and read back into Swift errors.
enum HDF5Errors {
    /// Turns off HDF5's automatic printing of its error stack for the calling thread.
    ///
    /// The library here is thread-safe, and there the error stack (and whether it prints) is
    /// per thread, so every entry point calls this before calling into HDF5.
    static func silence() {
        _ = H5Eset_auto2(hid_t(H5E_DEFAULT), nil, nil)
    }

    /// The messages of the current error stack, outermost ("unable to open file") and innermost
    /// ("truncated file: eof = 96, ..."), joined; the stack is cleared.
    static func drain() -> String {
        var messages: [String] = []
        withUnsafeMutablePointer(to: &messages) { pointer in
            _ = H5Ewalk2(hid_t(H5E_DEFAULT), H5E_WALK_DOWNWARD, { _, error, context in
                let messages = context!.assumingMemoryBound(to: [String].self)
                if let description = error?.pointee.desc {
                    messages.pointee.append(String(cString: description))
                }
                return 0
            }, pointer)
        }
        _ = H5Eclear2(hid_t(H5E_DEFAULT))
        guard let outer = messages.first, let inner = messages.last else { return "no detail from HDF5" }
        return outer == inner ? outer : "\(outer): \(inner)"
    }
}

/// The element types Minnow stores: float32 for tensors; int8, uint8 and int32 for quantized
/// weights, zero points and integer biases; int64 and uint64 for counters, seeds and
/// random-generator states.
public enum HDF5ElementType: String, Sendable {
    case float32, int8, uint8, int32, int64, uint64

    /// The in-memory type (host byte order).
    var memoryType: hid_t {
        switch self {
        case .float32: minnow_H5T_NATIVE_FLOAT()
        case .int8: minnow_H5T_NATIVE_INT8()
        case .uint8: minnow_H5T_NATIVE_UINT8()
        case .int32: minnow_H5T_NATIVE_INT32()
        case .int64: minnow_H5T_NATIVE_INT64()
        case .uint64: minnow_H5T_NATIVE_UINT64()
        }
    }

    /// The type written to files: little-endian, whatever the host.
    var fileType: hid_t {
        switch self {
        case .float32: minnow_H5T_IEEE_F32LE()
        case .int8: minnow_H5T_STD_I8LE()
        case .uint8: minnow_H5T_STD_U8LE()
        case .int32: minnow_H5T_STD_I32LE()
        case .int64: minnow_H5T_STD_I64LE()
        case .uint64: minnow_H5T_STD_U64LE()
        }
    }
}

/// A Swift number type that maps to an HDF5 element type.
public protocol HDF5Scalar: Sendable {
    /// The HDF5 element type that stores this Swift type.
    static var hdf5ElementType: HDF5ElementType { get }
}

extension Float: HDF5Scalar {
    public static var hdf5ElementType: HDF5ElementType { .float32 }
}

extension Int8: HDF5Scalar {
    public static var hdf5ElementType: HDF5ElementType { .int8 }
}

extension UInt8: HDF5Scalar {
    public static var hdf5ElementType: HDF5ElementType { .uint8 }
}

extension Int32: HDF5Scalar {
    public static var hdf5ElementType: HDF5ElementType { .int32 }
}

extension Int64: HDF5Scalar {
    public static var hdf5ElementType: HDF5ElementType { .int64 }
}

extension UInt64: HDF5Scalar {
    public static var hdf5ElementType: HDF5ElementType { .uint64 }
}

/// A readable name for a stored datatype: "float32", "float64", "int8", "uint64", "string", ...
func describeType(_ type: hid_t) -> String {
    let size = H5Tget_size(type)
    switch H5Tget_class(type) {
    case H5T_FLOAT: return "float\(size * 8)"
    case H5T_INTEGER: return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + "\(size * 8)"
    case H5T_STRING: return "string"
    case H5T_COMPOUND: return "compound"
    case H5T_ARRAY: return "array"
    case H5T_ENUM: return "enum"
    case H5T_VLEN: return "variable-length sequence"
    default: return "another HDF5 type"
    }
}

/// The Minnow element type a stored HDF5 type holds exactly, or nil (float64, int16, strings, ...).
func elementType(of type: hid_t) -> HDF5ElementType? {
    let size = H5Tget_size(type), unsigned = H5Tget_sign(type) == H5T_SGN_NONE
    switch H5Tget_class(type) {
    case H5T_FLOAT where size == 4: return .float32
    case H5T_INTEGER where size == 1: return unsigned ? .uint8 : .int8
    case H5T_INTEGER where size == 4: return unsigned ? nil : .int32
    case H5T_INTEGER where size == 8: return unsigned ? .uint64 : .int64
    default: return nil
    }
}
