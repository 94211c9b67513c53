import MinnowKernels

/// The threads Minnow's ops run on (`ThreadPool.shared` of MinnowKernels), as the modules above
/// the tensor library see them.
public enum Threads {
    /// Threads that run an op's loops, the caller included.
    public static var count: Int { ThreadPool.shared.threadCount }

    /// Why `MINNOW_NUM_THREADS` was not used, when it is set to something other than an integer
    /// in `1...ThreadPool.maxThreadCount`; nil when it is unset or valid.
    public static var settingError: String? {
        if case .failure(let error) = ThreadPool.threadCountSetting { return error.description }
        return nil
    }
}
