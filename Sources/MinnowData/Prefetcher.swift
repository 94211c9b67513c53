import Foundation
import MinnowTensor

/// Produces `count` elements on a background thread, at most `depth` ahead of the consumer.
///
/// The producer blocks while `depth` elements wait unread. Releasing the prefetcher early (for
/// example by breaking out of a `for` loop) cancels the producer and waits for its thread to
/// finish, so no thread outlives it and nothing deadlocks: a blocked producer is woken.
final class Prefetcher<Element: Sendable> {
    private let channel: Channel<Element>

    /// Starts a thread that calls `make(0)`, `make(1)`, ... `make(count - 1)` in order.
    init(count: Int, depth: Int, make: @escaping @Sendable (Int) -> Element) {
        require(depth >= 1, "Prefetcher: depth must be >= 1, got \(depth)")
        let channel = Channel<Element>(capacity: depth)
        self.channel = channel
        let thread = Thread {
            // Named from inside: on Linux only the running thread can name itself (shown by top, gdb).
            Thread.current.name = "minnow.prefetch"
            for index in 0..<count {
                guard channel.waitForRoom(), channel.put(make(index)) else { break }
            }
            channel.finish()
        }
        thread.start()
    }

    /// The next element, waiting for it if needed; nil after the last one.
    func next() -> Element? { channel.take() }

    deinit { channel.cancelAndWait() }
}

/// A bounded single-producer, single-consumer queue guarded by one condition variable.
private final class Channel<Element: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private let capacity: Int
    private var ready: [Element] = []
    private var cancelled = false
    private var finished = false

    init(capacity: Int) { self.capacity = capacity }

    /// Producer: waits until fewer than `capacity` elements are ready. False once cancelled.
    func waitForRoom() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while ready.count >= capacity && !cancelled { condition.wait() }
        return !cancelled
    }

    /// Producer: hands over `element`. False (and the element dropped) once cancelled.
    func put(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !cancelled else { return false }
        ready.append(element)
        condition.broadcast()
        return true
    }

    /// Producer: no more elements will come.
    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Consumer: the oldest ready element, waiting for one; nil when the producer has finished.
    func take() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !finished { condition.wait() }
        guard !ready.isEmpty else { return nil }
        condition.broadcast()
        return ready.removeFirst()
    }

    /// Consumer: stops the producer and waits until its loop has ended.
    func cancelAndWait() {
        condition.lock()
        cancelled = true
        ready.removeAll()
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }
}
