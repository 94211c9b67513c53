// libFuzzer entry of the structure-aware fuzzer (scripts/fuzz.sh structure): every input is a
// recipe of choices (Tests/MinnowRuntimeTests/ModelRecipe.swift) that builds a model with random
// operators and geometry at and past the format's limits. The file must be refused with a
// ModelFormatError, or load and run on every kernel level this CPU has with the reference
// kernels' output codes, without a crash or a sanitizer report.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStructure(_ data: UnsafeRawPointer, _ count: Int) -> CInt {
    let recipe = [UInt8](UnsafeRawBufferPointer(start: data, count: count))
    let file = ModelRecipe.model(recipe)
    checkEveryLevel(file, seed: count)
    return 0
}
