// libFuzzer entry of the field fuzzer (scripts/fuzz.sh fields): every input chooses an exported
// model of Tests/Fuzz/corpus (version 3) and fields of its tables to rewrite to extreme values
// (Tests/MinnowRuntimeTests/FieldMutation.swift). The file must be refused with a
// ModelFormatError, or load and run on every kernel level this CPU has with the reference
// kernels' output codes, without a crash or a sanitizer report.
import Foundation

/// The version 3 models of the folder MINNOW_FUZZ_MODELS names, read once.
let fieldFuzzerModels: [[UInt8]] = {
    let folder = ProcessInfo.processInfo.environment["MINNOW_FUZZ_MODELS"] ?? "Tests/Fuzz/corpus"
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
    let models = names.compactMap { FileManager.default.contents(atPath: folder + "/" + $0).map([UInt8].init) }.filter { $0.count > 64 && $0[4] == 3 }
    guard !models.isEmpty else { fatalError("no version 3 models in \(folder) (set MINNOW_FUZZ_MODELS)") }
    return models
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFields(_ data: UnsafeRawPointer, _ count: Int) -> CInt {
    let choices = [UInt8](UnsafeRawBufferPointer(start: data, count: count))
    let model = fieldFuzzerModels[Int(choices.first ?? 0) % fieldFuzzerModels.count]
    let file = FieldMutation.mutate(model, choices: Array(choices.dropFirst()))
    checkEveryLevel(file, seed: count)
    return 0
}
