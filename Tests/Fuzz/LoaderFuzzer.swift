// libFuzzer entry for the runtime's loader and interpreter (scripts/fuzz.sh loader builds it into
// one module with MinnowRuntime's sources): every input is a candidate model file; it must be
// refused with a ModelFormatError or load and run, on every kernel level this CPU has (AVX-512,
// AVX-VNNI, AVX2, reference), without a crash, a sanitizer report or a leak.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLoader(_ data: UnsafeRawPointer, _ count: Int) -> CInt {
    // The loader requires 16-byte-aligned bytes (as a mapped file or an array has): copy there.
    let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
    defer { bytes.deallocate() }
    bytes.copyMemory(from: UnsafeRawBufferPointer(start: data, count: count))
    // Mutations would almost all stop at the checksum: reseal every input so that the fuzzer
    // reaches the checks behind it (the checksum itself is covered by ModelLoaderTests).
    if count >= ModelFormat.headerSize {
        let checksum = crc32(UnsafeRawBufferPointer(rebasing: bytes[ModelFormat.headerSize..<count]))
        for i in 0..<4 { bytes[16 + i] = UInt8(truncatingIfNeeded: checksum >> (8 * UInt32(i))) }
    }
    guard let model = try? RuntimeModel(bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<count])) else { return 0 }
    for kernels in [KernelChoice.reference, .fastest, .avxVNNI, .avx2] {
        guard let interpreter = try? Interpreter(model: model, kernels: kernels) else { continue }
        for i in 0..<interpreter.input.count { interpreter.input[i] = Int8(truncatingIfNeeded: i &* 31) }
        interpreter.invoke()
        _ = interpreter.argmax
    }
    return 0
}
