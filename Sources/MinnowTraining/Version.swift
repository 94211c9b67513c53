import MinnowKernels

/// Minnow's version, written into checkpoints' provenance.
public enum MinnowVersion {
    public static let current = "0.1.0"
}

/// Facts about the thread pool that checkpoints record (bit-identical resume needs the same count).
public enum ThreadPoolInfo {
    public static var threadCount: Int { ThreadPool.shared.threadCount }
}
