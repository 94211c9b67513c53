import Foundation
import MinnowData
import MinnowTensor
import MinnowTestSupport
import XCTest

final class DataLoaderTests: XCTestCase {
    /// `count` images of `height` x `width` x `channels` with distinct random-looking bytes; label = index % 10.
    private func makeDataset(count: Int = 37, height: Int = 5, width: Int = 4, channels: Int = 1) -> Dataset {
        Dataset(name: "synthetic", pixels: patternBytes(count * height * width * channels, seed: 3),
                labels: (0..<count).map { $0 % 10 }, imageShape: [height, width, channels], classCount: 10)
    }

    private func unit(_ dataset: Dataset) -> Normalization { .unitRange(channels: dataset.imageShape[2]) }

    private func collect(_ epoch: DataLoader.Epoch) -> [Batch] { Array(epoch) }

    func testSameSeedGivesSameBatchesWithOrWithoutPrefetching() {
        let data = makeDataset()
        let augmentation = Augmentation(cropPadding: 1, horizontalFlip: true)
        let loaders = [2, 0, 3].map { depth in
            DataLoader(dataset: data, batchSize: 8, normalization: unit(data), seed: 11,
                       augmentation: augmentation, prefetchDepth: depth)
        }
        let runs = loaders.map { collect($0.epoch(4)) }
        for run in runs.dropFirst() {
            XCTAssertEqual(run.map(\.indices), runs[0].map(\.indices))
            XCTAssertEqual(run.map(\.labels), runs[0].map(\.labels))
            XCTAssertEqual(run.map(\.images.scalars), runs[0].map(\.images.scalars))
        }
        let otherSeed = DataLoader(dataset: data, batchSize: 8, normalization: unit(data), seed: 12)
        XCTAssertNotEqual(collect(otherSeed.epoch(4)).map(\.indices), runs[0].map(\.indices))
    }

    func testEveryEpochVisitsEachSampleOnceInItsOwnOrder() {
        let data = makeDataset()
        let loader = DataLoader(dataset: data, batchSize: 5, normalization: unit(data), seed: 1)
        var orders: [[Int]] = []
        for epoch in 0..<3 {
            let batches = collect(loader.epoch(epoch))
            XCTAssertEqual(batches.count, loader.batchesPerEpoch)
            XCTAssertEqual(batches.map(\.labels.count), [5, 5, 5, 5, 5, 5, 5, 2])
            let order = batches.flatMap(\.indices)
            XCTAssertEqual(order.sorted(), Array(0..<37))
            XCTAssertEqual(order, loader.order(epoch: epoch))
            XCTAssertEqual(batches.flatMap(\.labels), order.map { data.labels[$0] })
            orders.append(order)
        }
        XCTAssertEqual(Set(orders).count, 3)
        // A fresh loader (a resumed run) reproduces epoch 2 without replaying epochs 0 and 1.
        let resumed = DataLoader(dataset: data, batchSize: 5, normalization: unit(data), seed: 1)
        XCTAssertEqual(collect(resumed.epoch(2)).flatMap(\.indices), orders[2])
    }

    func testDropLastAndNoShuffle() {
        let data = makeDataset(count: 10)
        let kept = DataLoader(dataset: data, batchSize: 3, normalization: unit(data), shuffle: false)
        XCTAssertEqual(collect(kept.epoch(0)).map(\.indices), [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]])
        let dropped = DataLoader(dataset: data, batchSize: 3, normalization: unit(data), shuffle: false, dropLast: true)
        XCTAssertEqual(dropped.batchesPerEpoch, 3)
        XCTAssertEqual(collect(dropped.epoch(5)).map(\.indices), [[0, 1, 2], [3, 4, 5], [6, 7, 8]])
        let tooFew = DataLoader(dataset: data, batchSize: 20, normalization: unit(data), dropLast: true)
        XCTAssertTrue(collect(tooFew.epoch(0)).isEmpty)
    }

    func testNormalizationPerChannel() {
        let data = Dataset(name: "rgb", pixels: [0, 51, 255, 255, 0, 102], labels: [1, 2],
                           imageShape: [1, 1, 3], classCount: 3)
        let normalization = Normalization(mean: [0.5, 0.25, 0.0], std: [0.5, 0.25, 2.0])
        let loader = DataLoader(dataset: data, batchSize: 2, normalization: normalization, shuffle: false)
        let batch = collect(loader.epoch(0))[0]
        XCTAssertEqual(batch.images.shape, [2, 1, 1, 3])
        let expected: [Float] = [-1, (0.2 - 0.25) / 0.25, 0.5, 1, -1, 0.2]
        for (got, want) in zip(batch.images.scalars, expected) { XCTAssertEqual(got, want, accuracy: 1e-6) }
        XCTAssertEqual(batch.labels, [1, 2])

        let fashion = FashionMNIST.normalization
        let gray = Dataset(name: "gray", pixels: [0, 255], labels: [0, 0], imageShape: [1, 1, 1], classCount: 10)
        let values = gray.images(normalization: fashion).scalars
        XCTAssertEqual(values[0], -0.2860 / 0.3530, accuracy: 1e-6)
        XCTAssertEqual(values[1], (1 - 0.2860) / 0.3530, accuracy: 1e-6)
    }

    /// The image at `index` of `data` as [y][x][c] bytes.
    private func image(_ data: Dataset, _ index: Int) -> (Int, Int, Int) -> Float {
        let (h, w, c) = (data.imageShape[0], data.imageShape[1], data.imageShape[2])
        return { y, x, ch in
            guard y >= 0, y < h, x >= 0, x < w else { return 0 }
            return Float(data.pixels[index * h * w * c + (y * w + x) * c + ch]) / 255
        }
    }

    /// Whether `output` (H x W x C floats) equals `source` shifted by (dy, dx), zero-filled, maybe mirrored.
    private func matches(_ output: ArraySlice<Float>, _ source: (Int, Int, Int) -> Float, shape: [Int],
                         dy: Int, dx: Int, flip: Bool) -> Bool {
        let (h, w, c) = (shape[0], shape[1], shape[2])
        var i = output.startIndex
        for y in 0..<h {
            for x in 0..<w {
                for ch in 0..<c {
                    if abs(output[i] - source(y + dy, (flip ? w - 1 - x : x) + dx, ch)) > 1e-6 { return false }
                    i += 1
                }
            }
        }
        return true
    }

    func testFlipMirrorsAndCropShiftsKeepingSize() {
        let data = makeDataset(count: 40, height: 6, width: 5, channels: 2)
        let size = 6 * 5 * 2
        for (padding, flip) in [(0, true), (2, false), (2, true)] {
            let loader = DataLoader(dataset: data, batchSize: 16, normalization: unit(data), seed: 5,
                                    augmentation: Augmentation(cropPadding: padding, horizontalFlip: flip))
            var seenFlips = Set<Bool>(), seenShifts = Set<[Int]>()
            for batch in loader.epoch(0) {
                XCTAssertEqual(Array(batch.images.shape.dropFirst()), data.imageShape)
                let scalars = batch.images.scalars
                for (slot, index) in batch.indices.enumerated() {
                    let output = scalars[(slot * size)..<((slot + 1) * size)]
                    let candidates = (-padding...padding).flatMap { dy in
                        (-padding...padding).flatMap { dx in (flip ? [false, true] : [false]).map { (dy, dx, $0) } }
                    }.filter { matches(output, image(data, index), shape: data.imageShape, dy: $0.0, dx: $0.1, flip: $0.2) }
                    XCTAssertFalse(candidates.isEmpty, "padding \(padding) flip \(flip): image \(index) is not a shifted/mirrored copy")
                    if let first = candidates.first {
                        seenFlips.insert(first.2)
                        seenShifts.insert([first.0, first.1])
                    }
                }
            }
            XCTAssertEqual(seenFlips.count, flip ? 2 : 1, "padding \(padding) flip \(flip)")
            XCTAssertGreaterThan(seenShifts.count, padding == 0 ? 0 : 10, "padding \(padding) flip \(flip)")
        }
    }

    /// Random erasing: every erased image equals the original outside one rectangle of zeros
    /// (the normalized mean) of 2-33% of the image with aspect ratio in [0.3, 3.3]; about the
    /// given share of the images is erased; with probability 0 the stream is the one without it.
    func testRandomErasingZeroesOneRectangleOfTheDocumentedSizes() {
        let data = Dataset(name: "ones", pixels: [UInt8](repeating: 200, count: 400 * 20 * 20), labels: Array(repeating: 0, count: 400),
                           imageShape: [20, 20, 1], classCount: 10)
        let normalization = Normalization(mean: [0.1], std: [0.5])
        let loader = DataLoader(dataset: data, batchSize: 400, normalization: normalization, seed: 9,
                                augmentation: Augmentation(erasingProbability: 0.5))
        let images = collect(loader.epoch(0))[0].images.scalars
        var erased = 0
        for slot in 0..<400 {
            let pixels = Array(images[(slot * 400)..<((slot + 1) * 400)])
            let zeros = pixels.indices.filter { pixels[$0] == 0 }
            XCTAssertTrue(pixels.allSatisfy { $0 == 0 || abs($0 - (200.0 / 255 - 0.1) / 0.5) < 1e-6 })
            guard !zeros.isEmpty else { continue }
            erased += 1
            let rows = zeros.map { $0 / 20 }, columns = zeros.map { $0 % 20 }
            let height = rows.max()! - rows.min()! + 1, width = columns.max()! - columns.min()! + 1
            XCTAssertEqual(zeros.count, height * width, "one filled rectangle")
            XCTAssertTrue((Int(0.02 * 400 * 0.5)...Int(0.33 * 400 * 1.5)).contains(zeros.count), "\(zeros.count) pixels")
            XCTAssertTrue((0.3 / 2...3.3 * 2).contains(Double(height) / Double(width)), "\(height)x\(width)")
        }
        XCTAssertTrue((150...250).contains(erased), "\(erased) of 400 erased at probability 0.5")
        let off = DataLoader(dataset: data, batchSize: 400, normalization: normalization, seed: 9,
                             augmentation: Augmentation(cropPadding: 1, horizontalFlip: true, erasingProbability: 0))
        let plain = DataLoader(dataset: data, batchSize: 400, normalization: normalization, seed: 9,
                               augmentation: Augmentation(cropPadding: 1, horizontalFlip: true))
        XCTAssertEqual(collect(off.epoch(0))[0].images.scalars, collect(plain.epoch(0))[0].images.scalars)
    }

    func testAugmentationIsOffByDefault() {
        let data = makeDataset()
        let loader = DataLoader(dataset: data, batchSize: 37, normalization: unit(data), shuffle: false)
        XCTAssertTrue(loader.augmentation.isIdentity)
        XCTAssertEqual(collect(loader.epoch(0))[0].images.scalars, data.images(normalization: unit(data)).scalars)
    }

    /// The number of this process's threads named "minnow.prefetch", from /proc (Linux).
    private func prefetchThreadCount() throws -> Int {
        let tasks = try Requirements.require(try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task"),
                                             "/proc/self/task is not available (this test counts threads on Linux)")
        return tasks.filter { task in
            let name = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)
            return name?.trimmingCharacters(in: .whitespacesAndNewlines) == "minnow.prefetch"
        }.count
    }

    func testBreakingOutEarlyStopsTheProducerThread() throws {
        let data = makeDataset(count: 400)
        let loader = DataLoader(dataset: data, batchSize: 4, normalization: unit(data), prefetchDepth: 2)
        for epoch in 0..<50 {
            for (step, batch) in loader.epoch(epoch).enumerated() {
                XCTAssertEqual(batch.labels.count, 4)
                if epoch == 0 { XCTAssertEqual(try prefetchThreadCount(), 1, "the producer runs while batches remain") }
                if step == epoch % 3 { break }
            }
        }
        // Iterators that are never advanced must end their threads as well.
        for epoch in 0..<10 { _ = loader.epoch(epoch).makeIterator() }
        // Each thread ends right after its loop, which the iterator waited for: allow it a moment.
        var running = try prefetchThreadCount()
        let deadline = Date().addingTimeInterval(2)
        while running > 0 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
            running = try prefetchThreadCount()
        }
        XCTAssertEqual(running, 0, "prefetch threads left running")
    }
}
