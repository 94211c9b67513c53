import MinnowTensor

/// Mini-batches of a data set, epoch by epoch: shuffled, augmented and normalized, with the next
/// batches prepared on a background thread while the current one trains.
///
/// Every random choice is a pure function of `seed`, the epoch and the batch index: epoch `e`
/// shuffles with a generator derived from `(seed, e)` and batch `b` augments with one derived
/// from `(seed, e, b)`. So the same seed gives the same batches, with or without prefetching,
/// and training can resume at any epoch:
///
/// ```swift
/// let loader = DataLoader(dataset: train, batchSize: 128, normalization: FashionMNIST.normalization,
///                         seed: 42, augmentation: Augmentation(cropPadding: 2, horizontalFlip: true))
/// for epoch in startEpoch..<epochs {
///     for batch in loader.epoch(epoch) { step(batch.images, batch.labels) }
/// }
/// ```
public struct DataLoader: Sendable {
    /// The data set batches are drawn from.
    public var dataset: Dataset { assembler.dataset }
    /// Images per batch (the last batch may be smaller unless `dropLast`).
    public let batchSize: Int
    /// Whether each epoch visits the images in a new random order.
    public let shuffle: Bool
    /// The seed every shuffle and augmentation derives from.
    public let seed: UInt64
    /// Whether an incomplete last batch is skipped.
    public let dropLast: Bool
    /// Random transforms applied to each image.
    public var augmentation: Augmentation { assembler.augmentation }
    /// Batches prepared ahead on a background thread; 0 prepares each batch when it is asked for.
    public let prefetchDepth: Int
    private let assembler: BatchAssembler

    /// A loader over `dataset`; `normalization` must have one entry per image channel.
    public init(
        dataset: Dataset, batchSize: Int, normalization: Normalization,
        shuffle: Bool = true, seed: UInt64 = 0, dropLast: Bool = false,
        augmentation: Augmentation = Augmentation(), prefetchDepth: Int = 2
    ) {
        require(batchSize >= 1, "DataLoader: batchSize must be >= 1, got \(batchSize)")
        require(prefetchDepth >= 0, "DataLoader: prefetchDepth must be >= 0, got \(prefetchDepth)")
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.seed = seed
        self.dropLast = dropLast
        self.prefetchDepth = prefetchDepth
        self.assembler = BatchAssembler(dataset: dataset, normalization: normalization, augmentation: augmentation)
    }

    /// The number of batches in one epoch.
    public var batchesPerEpoch: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// The order in which epoch `epoch` visits the data set (identity without `shuffle`).
    public func order(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<dataset.count) }
        var generator = SeededGenerator(seed: Shuffle.derive(epochSeed(epoch), 0))
        return Shuffle.permutation(dataset.count, generator: &generator)
    }

    /// The batches of epoch `epoch` (0-based), in order.
    public func epoch(_ epoch: Int) -> Epoch { Epoch(loader: self, index: epoch) }

    /// Batch `index` of an epoch whose visiting order is `order`.
    func batch(_ index: Int, epoch: Int, order: [Int]) -> Batch {
        let indices = Array(order[(index * batchSize)..<min((index + 1) * batchSize, order.count)])
        let generator = augmentation.isIdentity
            ? nil : SeededGenerator(seed: Shuffle.derive(epochSeed(epoch), UInt64(index) + 1))
        return assembler.batch(indices: indices, generator: generator)
    }

    private func epochSeed(_ epoch: Int) -> UInt64 { Shuffle.derive(seed, UInt64(bitPattern: Int64(epoch))) }
}

extension DataLoader {
    /// One pass over a `DataLoader`'s data set: a sequence of `Batch`es.
    public struct Epoch: Sequence, Sendable {
        /// The loader this epoch belongs to.
        public let loader: DataLoader
        /// The epoch number (0-based) that fixes its shuffle and augmentation.
        public let index: Int

        public var underestimatedCount: Int { loader.batchesPerEpoch }

        public func makeIterator() -> Iterator { Iterator(loader: loader, epoch: index) }

        /// Yields the batches of one epoch, from a background thread when the loader prefetches.
        public struct Iterator: IteratorProtocol {
            private let loader: DataLoader
            private let epoch: Int
            private let order: [Int]
            private let prefetcher: Prefetcher<Batch>?
            private var position = 0

            init(loader: DataLoader, epoch: Int) {
                let order = loader.order(epoch: epoch)
                self.loader = loader
                self.epoch = epoch
                self.order = order
                self.prefetcher = loader.prefetchDepth == 0 ? nil
                    : Prefetcher(count: loader.batchesPerEpoch, depth: loader.prefetchDepth) { index in
                        loader.batch(index, epoch: epoch, order: order)
                    }
            }

            public mutating func next() -> Batch? {
                if let prefetcher { return prefetcher.next() }
                guard position < loader.batchesPerEpoch else { return nil }
                defer { position += 1 }
                return loader.batch(position, epoch: epoch, order: order)
            }
        }
    }
}
