#if canImport(Glibc)
import Glibc
#endif

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
