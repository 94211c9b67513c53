import CMinnowRuntimeAPI
// The Embedded Swift build compiles the runtime and this interface as one module
// (scripts/build-embedded.sh): the interface's generic calls then share the runtime's
// specializations instead of making their own.
#if !MINNOW_RUNTIME_ONE_MODULE
import MinnowRuntime
#endif
import QuantMath

// The C interface of the runtime: include/minnow_runtime.h declares these functions and documents
// them; this file implements them over `RuntimeModel` and `Interpreter`. Nothing here traps on
// what a caller passes: every pointer and count is checked and answered with a status.

/// What a `minnow_interpreter *` points at: the model's tables and its interpreter.
final class InterpreterHandle {
    let model: RuntimeModel
    let interpreter: Interpreter

    init(model: RuntimeModel, interpreter: Interpreter) {
        self.model = model
        self.interpreter = interpreter
    }

    static func from(_ pointer: OpaquePointer?) -> InterpreterHandle? {
        pointer.map { Unmanaged<InterpreterHandle>.fromOpaque(UnsafeRawPointer($0)).takeUnretainedValue() }
    }
}

/// A static, NUL-terminated C string.
private func cString(_ text: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// Writes `status` and `message` into `failure` (when given) and returns `status`. Allocates
/// nothing (a successful call must not: `scripts/arm-run.sh` counts).
@discardableResult
private func report(_ status: minnow_status, _ message: String, _ failure: UnsafeMutablePointer<minnow_error>?) -> minnow_status {
    guard let failure else { return status }
    failure.pointee.status = status
    withUnsafeMutableBytes(of: &failure.pointee.message) { buffer in
        var count = 0
        for byte in message.utf8 where count < buffer.count - 1 {
            buffer[count] = byte
            count += 1
        }
        buffer[count] = 0
    }
    return status
}

/// The model in `bytes`, checked, or nil with the status and message of what is wrong with it.
private func parsedModel(_ bytes: UnsafeRawPointer?, _ size: Int, _ failure: UnsafeMutablePointer<minnow_error>?) -> RuntimeModel? {
    guard let bytes else {
        report(MINNOW_ERROR_ARGUMENT, "the model pointer is NULL", failure)
        return nil
    }
    do {
        return try RuntimeModel(bytes: UnsafeRawBufferPointer(start: bytes, count: size))
    } catch {
        report(MINNOW_ERROR_MODEL, error.description, failure)
        return nil
    }
}

/// Writes `shape` into `dims` (room for `capacity`) and its rank into `rank`.
private func writeShape(_ shape: [Int], _ dims: UnsafeMutablePointer<Int32>?, _ capacity: Int, _ rank: UnsafeMutablePointer<Int>?,
                        _ failure: UnsafeMutablePointer<minnow_error>?) -> minnow_status {
    guard let dims, let rank else { return report(MINNOW_ERROR_ARGUMENT, "dims and rank must not be NULL", failure) }
    rank.pointee = shape.count
    guard capacity >= shape.count else {
        return report(MINNOW_ERROR_ARGUMENT, "the shape has \(shape.count) dimensions, dims has room for \(capacity)", failure)
    }
    for (i, extent) in shape.enumerated() { dims[i] = Int32(extent) }
    return report(MINNOW_OK, "ok", failure)
}

@_cdecl("minnow_api_version")
public func minnowAPIVersion() -> Int32 { Int32(MINNOW_RUNTIME_API_VERSION) }

@_cdecl("minnow_status_name")
public func minnowStatusName(_ status: minnow_status) -> UnsafePointer<CChar> {
    switch status {
    case MINNOW_OK: cString("ok")
    case MINNOW_ERROR_ARGUMENT: cString("argument")
    case MINNOW_ERROR_MODEL: cString("model")
    case MINNOW_ERROR_ARENA: cString("arena")
    default: cString("unknown")
    }
}

@_cdecl("minnow_arena_size")
public func minnowArenaSize(_ model: UnsafeRawPointer?, _ modelSize: Int, _ arenaSize: UnsafeMutablePointer<Int>?,
                            _ failure: UnsafeMutablePointer<minnow_error>?) -> minnow_status {
    guard let arenaSize else { return report(MINNOW_ERROR_ARGUMENT, "arena_size must not be NULL", failure) }
    guard let parsed = parsedModel(model, modelSize, failure) else { return failure?.pointee.status ?? MINNOW_ERROR_MODEL }
    arenaSize.pointee = parsed.arenaSize
    return report(MINNOW_OK, "ok", failure)
}

@_cdecl("minnow_interpreter_create")
public func minnowInterpreterCreate(_ model: UnsafeRawPointer?, _ modelSize: Int, _ arena: UnsafeMutableRawPointer?, _ arenaSize: Int,
                                    _ kernels: minnow_kernels, _ interpreter: UnsafeMutablePointer<OpaquePointer?>?,
                                    _ failure: UnsafeMutablePointer<minnow_error>?) -> minnow_status {
    guard let interpreter else { return report(MINNOW_ERROR_ARGUMENT, "interpreter must not be NULL", failure) }
    interpreter.pointee = nil
    guard let arena else { return report(MINNOW_ERROR_ARGUMENT, "the arena pointer is NULL", failure) }
    let choice: KernelChoice
    switch kernels {
    case MINNOW_KERNELS_FASTEST: choice = .fastest
    case MINNOW_KERNELS_REFERENCE: choice = .reference
    case MINNOW_KERNELS_NEON_I8MM: choice = .neonI8MM
    case MINNOW_KERNELS_NEON_DOT: choice = .neonDot
    case MINNOW_KERNELS_NEON: choice = .neon
    default: return report(MINNOW_ERROR_ARGUMENT, "unknown kernels value \(kernels.rawValue)", failure)
    }
    guard let parsed = parsedModel(model, modelSize, failure) else { return failure?.pointee.status ?? MINNOW_ERROR_MODEL }
    do {
        let made = try Interpreter(model: parsed, arena: UnsafeMutableRawBufferPointer(start: arena, count: arenaSize), kernels: choice)
        interpreter.pointee = OpaquePointer(Unmanaged.passRetained(InterpreterHandle(model: parsed, interpreter: made)).toOpaque())
        return report(MINNOW_OK, "ok", failure)
    } catch {
        return report(MINNOW_ERROR_ARENA, error.description, failure)
    }
}

@_cdecl("minnow_interpreter_free")
public func minnowInterpreterFree(_ interpreter: OpaquePointer?) {
    guard let interpreter else { return }
    Unmanaged<InterpreterHandle>.fromOpaque(UnsafeRawPointer(interpreter)).release()
}

@_cdecl("minnow_kernel_level")
public func minnowKernelLevel(_ interpreter: OpaquePointer?) -> UnsafePointer<CChar>? {
    switch InterpreterHandle.from(interpreter)?.interpreter.kernelLevel {
    case nil: nil
    case "avx512-vnni": cString("avx512-vnni")
    case "avx-vnni": cString("avx-vnni")
    case "avx2": cString("avx2")
    case "neon-i8mm": cString("neon-i8mm")
    case "neon-dot": cString("neon-dot")
    case "neon": cString("neon")
    default: cString("reference")
    }
}

@_cdecl("minnow_input_shape")
public func minnowInputShape(_ interpreter: OpaquePointer?, _ dims: UnsafeMutablePointer<Int32>?, _ capacity: Int,
                             _ rank: UnsafeMutablePointer<Int>?, _ failure: UnsafeMutablePointer<minnow_error>?) -> minnow_status {
    guard let handle = InterpreterHandle.from(interpreter) else { return report(MINNOW_ERROR_ARGUMENT, "the interpreter is NULL", failure) }
    return writeShape(handle.model.tensors[handle.model.input].shape, dims, capacity, rank, failure)
}

@_cdecl("minnow_output_shape")
public func minnowOutputShape(_ interpreter: OpaquePointer?, _ dims: UnsafeMutablePointer<Int32>?, _ capacity: Int,
                              _ rank: UnsafeMutablePointer<Int>?, _ failure: UnsafeMutablePointer<minnow_error>?) -> minnow_status {
    guard let handle = InterpreterHandle.from(interpreter) else { return report(MINNOW_ERROR_ARGUMENT, "the interpreter is NULL", failure) }
    return writeShape(handle.model.tensors[handle.model.output].shape, dims, capacity, rank, failure)
}

@_cdecl("minnow_input_quantization")
public func minnowInputQuantization(_ interpreter: OpaquePointer?) -> minnow_quantization {
    guard let parameters = InterpreterHandle.from(interpreter)?.interpreter.inputParameters else { return minnow_quantization() }
    return minnow_quantization(scale: parameters.scale, zero_point: parameters.zeroPoint)
}

@_cdecl("minnow_output_quantization")
public func minnowOutputQuantization(_ interpreter: OpaquePointer?) -> minnow_quantization {
    guard let parameters = InterpreterHandle.from(interpreter)?.interpreter.outputParameters else { return minnow_quantization() }
    return minnow_quantization(scale: parameters.scale, zero_point: parameters.zeroPoint)
}

@_cdecl("minnow_input_count")
public func minnowInputCount(_ interpreter: OpaquePointer?) -> Int {
    InterpreterHandle.from(interpreter)?.interpreter.input.count ?? 0
}

@_cdecl("minnow_output_count")
public func minnowOutputCount(_ interpreter: OpaquePointer?) -> Int {
    InterpreterHandle.from(interpreter)?.interpreter.output.count ?? 0
}

@_cdecl("minnow_input_codes")
public func minnowInputCodes(_ interpreter: OpaquePointer?) -> UnsafeMutablePointer<Int8>? {
    InterpreterHandle.from(interpreter)?.interpreter.input.baseAddress
}

@_cdecl("minnow_quantize_input")
public func minnowQuantizeInput(_ interpreter: OpaquePointer?, _ values: UnsafePointer<Float>?, _ count: Int,
                                _ failure: UnsafeMutablePointer<minnow_error>?) -> minnow_status {
    guard let handle = InterpreterHandle.from(interpreter) else { return report(MINNOW_ERROR_ARGUMENT, "the interpreter is NULL", failure) }
    guard let values else { return report(MINNOW_ERROR_ARGUMENT, "values must not be NULL", failure) }
    let expected = handle.interpreter.input.count
    guard count == expected else { return report(MINNOW_ERROR_ARGUMENT, "\(count) values given, the input takes \(expected)", failure) }
    let image = UnsafeBufferPointer(start: values, count: count)
    if let index = image.firstIndex(where: { $0.isNaN }) { return report(MINNOW_ERROR_ARGUMENT, "value \(index) is NaN", failure) }
    handle.interpreter.setInput(image)
    return report(MINNOW_OK, "ok", failure)
}

@_cdecl("minnow_quantize_pixels")
public func minnowQuantizePixels(_ interpreter: OpaquePointer?, _ pixels: UnsafePointer<UInt8>?, _ count: Int,
                                 _ failure: UnsafeMutablePointer<minnow_error>?) -> minnow_status {
    guard let handle = InterpreterHandle.from(interpreter) else { return report(MINNOW_ERROR_ARGUMENT, "the interpreter is NULL", failure) }
    guard let pixels else { return report(MINNOW_ERROR_ARGUMENT, "pixels must not be NULL", failure) }
    let expected = handle.interpreter.input.count
    guard count == expected else { return report(MINNOW_ERROR_ARGUMENT, "\(count) pixels given, the input takes \(expected)", failure) }
    guard handle.interpreter.setInput(pixels: UnsafeBufferPointer(start: pixels, count: count)) else {
        return report(MINNOW_ERROR_ARGUMENT, "the model file stores no input normalization (format version 3 or older): use minnow_quantize_input", failure)
    }
    return report(MINNOW_OK, "ok", failure)
}

@_cdecl("minnow_input_normalization")
public func minnowInputNormalization(_ interpreter: OpaquePointer?, _ mean: UnsafeMutablePointer<Float>?, _ std: UnsafeMutablePointer<Float>?,
                                     _ capacity: Int) -> Int {
    guard let metadata = InterpreterHandle.from(interpreter)?.model.metadata else { return 0 }
    for i in 0..<max(0, min(capacity, metadata.mean.count)) {
        mean?[i] = metadata.mean[i]
        std?[i] = metadata.std[i]
    }
    return metadata.mean.count
}

@_cdecl("minnow_class_name")
public func minnowClassName(_ interpreter: OpaquePointer?, _ index: Int) -> UnsafePointer<CChar>? {
    guard let names = InterpreterHandle.from(interpreter)?.model.classNameBytes, names.indices.contains(index) else { return nil }
    return names[index].baseAddress?.assumingMemoryBound(to: CChar.self)
}

@_cdecl("minnow_invoke")
public func minnowInvoke(_ interpreter: OpaquePointer?, _ failure: UnsafeMutablePointer<minnow_error>?) -> minnow_status {
    guard let handle = InterpreterHandle.from(interpreter) else { return report(MINNOW_ERROR_ARGUMENT, "the interpreter is NULL", failure) }
    handle.interpreter.invoke()
    return report(MINNOW_OK, "ok", failure)
}

@_cdecl("minnow_output_codes")
public func minnowOutputCodes(_ interpreter: OpaquePointer?) -> UnsafePointer<Int8>? {
    InterpreterHandle.from(interpreter)?.interpreter.output.baseAddress
}

@_cdecl("minnow_output_argmax")
public func minnowOutputArgmax(_ interpreter: OpaquePointer?) -> Int32 {
    InterpreterHandle.from(interpreter).map { Int32($0.interpreter.argmax) } ?? -1
}
