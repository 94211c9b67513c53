import Foundation
import MinnowTensor

/// Small synthetic data sets in the real files' formats, for tests that train through the data
/// loaders or the `minnow` command (which read data sets from a folder).
public enum SyntheticData {
    /// Writes a Fashion-MNIST-format folder (raw IDX files `train-*` and `t10k-*`) to `folder`:
    /// 28x28 images of 10 classes, each class a bright band at its own height on seeded noise, so
    /// a small model learns it within an epoch. Point `MINNOW_FASHION_MNIST_DIR` (or a data
    /// directory argument) at `folder`.
    public static func writeFashionMNIST(to folder: URL, train: Int = 512, test: Int = 128, seed: UInt64 = 0) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var generator = SeededGenerator(seed: seed)
        for (prefix, count) in [("train", train), ("t10k", test)] {
            var labels: [UInt8] = [], pixels: [UInt8] = []
            for _ in 0..<count {
                let label = Int(generator.next() % 10)
                labels.append(UInt8(label))
                for row in 0..<28 {
                    for _ in 0..<28 {
                        let noise = UInt8(generator.next() % 60)
                        pixels.append(row >= 2 * label + 2 && row < 2 * label + 8 ? noise + 150 : noise)
                    }
                }
            }
            try Data(idx(shape: [count, 28, 28], payload: pixels, magic: 0x0803))
                .write(to: folder.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
            try Data(idx(shape: [count], payload: labels, magic: 0x0801))
                .write(to: folder.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
        }
    }

    /// An IDX file: a big-endian magic number and extents, then the bytes.
    private static func idx(shape: [Int], payload: [UInt8], magic: UInt32) -> [UInt8] {
        ([Int(magic)] + shape).flatMap { value in [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } } + payload
    }
}
