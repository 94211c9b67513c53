import MinnowKernels

/// Minnow's version, written into checkpoints' provenance.
public enum MinnowVersion {
    public static let current = "0.1.0"
}

/// Facts about the thread pool that checkpoints record (bit-identical resume needs the same count).
public enum ThreadPoolInfo {
    public static var threadCount: Int { ThreadPool.shared.threadCount }

    /// Why `MINNOW_NUM_THREADS` was not used, when it is set to something other than an integer
    /// in `1...256`; nil when it is unset or valid.
    public static var settingError: String? {
        if case .failure(let error) = ThreadPool.threadCountSetting { return error.description }
        return nil
    }
}
