#if canImport(Glibc)
import Glibc
#endif
import MinnowModels
import MinnowNN
import MinnowTensor

/// Resident memory of this process, in bytes: current (from /proc/self/statm) and peak (getrusage).
public struct MemoryUsage: Codable, Sendable {
    public let residentBytes: Int
    public let peakResidentBytes: Int

    /// Reads the current values.
    public static func now() -> MemoryUsage {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        var resident = 0
        if let file = fopen("/proc/self/statm", "r") {
            var size = 0, pages = 0
            if fscanf_statm(file, &size, &pages) { resident = pages * Int(sysconf(Int32(_SC_PAGESIZE))) }
            fclose(file)
        }
        return MemoryUsage(residentBytes: resident, peakResidentBytes: Int(usage.ru_maxrss) * 1024)
    }
}

private func fscanf_statm(_ file: UnsafeMutablePointer<FILE>, _ size: inout Int, _ pages: inout Int) -> Bool {
    var buffer = [CChar](repeating: 0, count: 128)
    guard fgets(&buffer, 128, file) != nil else { return false }
    let fields = String(cString: buffer).split(separator: " ").compactMap { Int($0) }
    guard fields.count >= 2 else { return false }
    (size, pages) = (fields[0], fields[1])
    return true
}

/// Runs `steps` training steps of `config`'s model and samples resident memory every `every`
/// steps, to show that memory stays flat (no op leaks tensors or graph nodes across steps).
public func trainingMemoryTrace(_ config: ModelConfig, batch: Int, steps: Int, every: Int) throws -> [(step: Int, usage: MemoryUsage)] {
    let model = try ModelZoo.build(config)
    var generator = SeededGenerator(seed: 3)
    let x = Tensor.randomNormal([batch] + config.inputShape, generator: &generator)
    let labels = (0..<batch).map { $0 % config.classes }
    let optimizer = SGD(learningRate: 0.01, momentum: 0.9, weightDecay: 5e-4)
    var trace: [(Int, MemoryUsage)] = []
    for step in 1...steps {
        model.zeroGrad()
        crossEntropy(logits: model(x), labels: labels).backward()
        optimizer.step(model)
        if step % every == 0 { trace.append((step, MemoryUsage.now())) }
    }
    return trace
}
