// Shared by the structure and field fuzzers (scripts/fuzz.sh compiles it beside them): a model file
// must be refused, or load and give the reference kernels' output codes on every kernel level this
// CPU has. A difference or a loaded model that fails to prepare is a finding: the harness stops
// the process (fatalError), which is how libFuzzer records an input.

/// Runs `file` on every level with the same input (varied by `seed`) and stops the process if a
/// level differs from the reference kernels.
func checkEveryLevel(_ file: [UInt8], seed: Int) {
    file.withUnsafeBytes { raw in
        guard let model = try? RuntimeModel(bytes: raw) else { return }
        var expected: [Int8]?
        for kernels in [KernelChoice.reference, .fastest, .avxVNNI, .avx2] {
            guard let interpreter = try? Interpreter(model: model, kernels: kernels) else { fatalError("a loaded model failed to prepare") }
            for i in 0..<interpreter.input.count { interpreter.input[i] = Int8(truncatingIfNeeded: i &* 31 &+ seed) }
            interpreter.invoke()
            let output = Array(interpreter.output)
            if let expected, expected != output { fatalError("\(interpreter.kernelLevel) differs from the reference kernels") }
            expected = output
        }
    }
}
