// libFuzzer entry of the structure-aware fuzzer (scripts/fuzz.sh structure): every input is a
// recipe of choices (Tests/MinnowRuntimeTests/ModelRecipe.swift) that builds a model with random
// operators and geometry at and past the format's limits. The file must be refused with a
// ModelFormatError, or load and run on every kernel level this CPU has with the reference
// kernels' output codes, without a crash or a sanitizer report.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStructure(_ data: UnsafeRawPointer, _ count: Int) -> CInt {
    let recipe = [UInt8](UnsafeRawBufferPointer(start: data, count: count))
    let file = ModelRecipe.model(recipe)
    file.withUnsafeBytes { raw in
        guard let model = try? RuntimeModel(bytes: raw) else { return }
        var expected: [Int8]?
        for kernels in [KernelChoice.reference, .fastest, .avxVNNI, .avx2] {
            guard let interpreter = try? Interpreter(model: model, kernels: kernels) else { fatalError("a loaded model failed to prepare") }
            for i in 0..<interpreter.input.count { interpreter.input[i] = Int8(truncatingIfNeeded: i &* 31 &+ count) }
            interpreter.invoke()
            let output = Array(interpreter.output)
            if let expected, expected != output { fatalError("\(interpreter.kernelLevel) differs from the reference kernels") }
            expected = output
        }
    }
    return 0
}
