#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A fixed set of persistent worker threads that run chunks of one loop at a time.
///
/// The pool owns all of Minnow's parallelism: its kernels (depthwise convolution, im2col,
/// pooling, batch norm, large elementwise ops) split loops over it, and GEMM splits its
/// output (or its reduction) over it too, each chunk calling single-threaded OpenBLAS
/// (`Gemm` sets OpenBLAS to one thread). One owner means the cores are never oversubscribed. Workers spin briefly after a job and then sleep, so a training
/// step's stream of small loops costs about a microsecond each, not a thread wake-up.
///
/// The thread count is `MINNOW_NUM_THREADS` if it is an integer in `1...maxThreadCount`,
/// otherwise the number of active cores (`threadCountSetting` tells a caller, such as the CLI,
/// whether the variable was rejected, so it can say so).
public final class ThreadPool: @unchecked Sendable {
    /// The process-wide pool.
    public static let shared = ThreadPool(threadCount: ThreadPool.defaultThreadCount())

    /// Threads that run a loop, counting the caller.
    public let threadCount: Int

    private final class Job: @unchecked Sendable {
        /// Cleared by the caller once every chunk has run: the closure must not outlive its loop.
        var body: ((Int) -> Void)?
        let count: Int
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(0)
        init(body: @escaping (Int) -> Void, count: Int) {
            self.body = body
            self.count = count
        }
        /// Runs chunks until none are left.
        func drain() {
            while true {
                let index = next.wrappingAdd(1, ordering: .acquiringAndReleasing).oldValue
                if index >= count { return }
                body!(index)
                done.wrappingAdd(1, ordering: .releasing)
            }
        }
    }

    private let generation = Atomic<Int>(0)
    private let inUse = Atomic<Bool>(false)
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var currentJob: Job?  // guarded by `mutex`

    /// Creates a pool that runs loops on `threadCount` threads (the caller and `threadCount - 1` workers).
    public init(threadCount: Int) {
        self.threadCount = max(1, threadCount)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        for _ in 1..<self.threadCount { startWorker() }
    }

    /// The most threads `MINNOW_NUM_THREADS` may ask for.
    public static let maxThreadCount = 256

    /// `MINNOW_NUM_THREADS` as the pool reads it: nil when unset or empty, the count it asks for, or a
    /// failure naming the text when it is not an integer in `1...maxThreadCount` (the pool then
    /// uses the core count).
    public static var threadCountSetting: Result<Int, InvalidThreadCount>? {
        guard let text = getenv("MINNOW_NUM_THREADS").map({ String(cString: $0) }), !text.isEmpty else { return nil }
        guard let value = Int(text), (1...maxThreadCount).contains(value) else { return .failure(InvalidThreadCount(text: text)) }
        return .success(value)
    }

    /// A `MINNOW_NUM_THREADS` value that is not an integer in `1...maxThreadCount`.
    public struct InvalidThreadCount: Error, CustomStringConvertible {
        public let text: String
        public var description: String {
            "MINNOW_NUM_THREADS must be an integer in 1...\(ThreadPool.maxThreadCount), got '\(text)'"
        }
    }

    static func defaultThreadCount() -> Int {
        if case .success(let value) = threadCountSetting { return value }
        return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    }

    /// Calls `body(i)` for every `i` in `0..<chunks`, spread over the pool's threads, and returns
    /// when all calls have returned. Runs serially when called from inside another loop.
    public func parallelFor(chunks: Int, _ body: (Int) -> Void) {
        if chunks <= 1 || threadCount == 1
            || !inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        {
            for index in 0..<chunks { body(index) }
            return
        }
        withoutActuallyEscaping(body) { escaping in
            let job = Job(body: escaping, count: chunks)
            pthread_mutex_lock(mutex)
            currentJob = job
            generation.wrappingAdd(1, ordering: .releasing)
            pthread_cond_broadcast(condition)
            pthread_mutex_unlock(mutex)
            job.drain()
            while job.done.load(ordering: .acquiring) < chunks { spinPause() }
            // Workers may still hold the job (not the closure: every chunk has returned).
            job.body = nil
            pthread_mutex_lock(mutex)
            currentJob = nil
            pthread_mutex_unlock(mutex)
        }
        inUse.store(false, ordering: .releasing)
    }

    /// Splits `0..<count` into ranges of at least `grain` elements, at most a few per thread,
    /// and runs `body` on each range in parallel.
    public func parallelFor(range count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let maxChunks = threadCount * 4
        let chunks = min(maxChunks, max(1, count / max(1, grain)))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        parallelFor(chunks: chunks) { chunk in
            let start = count * chunk / chunks
            let end = count * (chunk + 1) / chunks
            body(start..<end)
        }
    }

    private func startWorker() {
        let box = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { context in
            #if canImport(Darwin)
            let pool = Unmanaged<ThreadPool>.fromOpaque(context).takeRetainedValue()
            #else
            let pool = Unmanaged<ThreadPool>.fromOpaque(context!).takeRetainedValue()
            #endif
            pool.workerLoop()
            return nil
        }, box.toOpaque())
        precondition(result == 0, "ThreadPool: pthread_create failed with \(result)")
        pthread_detach(thread)
    }

    private func workerLoop() {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen && spins < 200_000 {
                spinPause()
                spins += 1
            }
            pthread_mutex_lock(mutex)
            while generation.load(ordering: .acquiring) == seen {
                pthread_cond_wait(condition, mutex)
            }
            seen = generation.load(ordering: .acquiring)
            let job = currentJob
            pthread_mutex_unlock(mutex)
            job?.drain()
        }
    }
}

/// A busy-wait step. Kept as a function so a pause hint can be added in one place.
@inline(__always)
private func spinPause() {}
