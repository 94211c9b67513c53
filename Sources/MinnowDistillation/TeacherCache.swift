import Foundation
import MinnowData
import MinnowCheckpoint
import MinnowHDF5
import MinnowTensor

/// The teachers' logits for every image of a training set, computed once and stored in HDF5, so
/// that a distillation step costs a row lookup instead of a teacher forward pass.
///
/// The cache holds the logits of the *unaugmented*, normalized images, so it is only valid when
/// training sees exactly those images: with augmentation each epoch shows the student a new crop
/// or flip, whose teacher logits differ from the stored ones, and the teacher must run online.
///
/// A cache file is keyed by a fingerprint of everything the logits depend on: the teachers'
/// weights and configs (`Fingerprint.of(model:configJSON:)`), the data set (name, count, shape,
/// classes, a hash of its labels and pixels) and the normalization. The key is the file name
/// (`teacher-logits-<key>.h5`) and is stored inside it, so any change to those inputs selects
/// another file and a stale file is never read; a damaged or mismatching file is recomputed.
public struct TeacherCache {
    /// What happened when the cache was opened.
    public enum Status: Equatable, Sendable, CustomStringConvertible {
        /// A valid file was found and read.
        case loaded
        /// No file existed: the logits were computed and written.
        case computed
        /// A file existed but was unreadable or did not match: recomputed and overwritten.
        case recomputed(reason: String)

        /// "loaded", "computed", or "recomputed: <reason>".
        public var description: String {
            switch self {
            case .loaded: "loaded"
            case .computed: "computed"
            case .recomputed(let reason): "recomputed: \(reason)"
            }
        }
    }

    /// The cache file's root `format` attribute.
    public static let formatName = "minnow.teacher-logits"

    /// The logits `[count, classes]`, row `i` for data-set image `i`.
    public let logits: Tensor
    /// The cache file.
    public let url: URL
    /// The fingerprint of teachers, data and normalization (32 hex digits).
    public let key: String
    /// Whether the file was read, computed or recomputed.
    public let status: Status

    /// Opens the cache of `teachers` on `dataset` (normalized with `normalization`) in `directory`,
    /// computing and writing it (atomically) when it is missing or invalid.
    public static func open(teachers: TeacherEnsemble, dataset: Dataset, normalization: Normalization,
                            directory: URL, batchSize: Int = 64) throws(DistillationError) -> TeacherCache {
        var fingerprint = Fingerprint()
        fingerprint.combine(teachers.fingerprint.hex)
        fingerprint.combine(Fingerprint.of(dataset: dataset, normalization: normalization).hex)
        let key = fingerprint.hex
        let url = directory.appendingPathComponent("teacher-logits-\(key).h5")
        let shape = [dataset.count, teachers.classes]
        var reason: String?
        if FileManager.default.fileExists(atPath: url.path) {
            do {
                return TeacherCache(logits: try read(url, key: key, shape: shape), url: url, key: key, status: .loaded)
            } catch {
                reason = error.description
            }
        }
        let logits = compute(teachers: teachers, dataset: dataset, normalization: normalization, batchSize: batchSize)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try HDF5File.writeAtomically(to: url) { file in
                try file.setAttribute("format", formatName)
                try file.setAttribute("key", key)
                try file.setAttribute("dataset", dataset.name)
                try file.setAttribute("teachers", teachers.members.map { $0.source?.path ?? "(in memory)" }.joined(separator: ", "))
                try file.write(logits, to: "/logits")
            }
        } catch {
            throw .cache("cannot write \(url.path): \(error)")
        }
        return TeacherCache(logits: logits, url: url, key: key, status: reason.map { .recomputed(reason: $0) } ?? .computed)
    }

    /// The cached logits of the data-set images at `indices`, `[indices.count, classes]`.
    public func logits(for indices: [Int]) -> Tensor { logits.gathered(rows: indices) }

    /// The teachers' averaged logits for every image, in data-set order, unaugmented.
    static func compute(teachers: TeacherEnsemble, dataset: Dataset, normalization: Normalization, batchSize: Int) -> Tensor {
        let loader = DataLoader(dataset: dataset, batchSize: batchSize, normalization: normalization, shuffle: false)
        let classes = teachers.classes
        var values = [Float](repeating: 0, count: dataset.count * classes)
        for batch in loader.epoch(0) {
            let rows = teachers.logits(batch.images).scalars
            for (slot, index) in batch.indices.enumerated() {
                values.replaceSubrange((index * classes)..<((index + 1) * classes), with: rows[(slot * classes)..<((slot + 1) * classes)])
            }
        }
        return Tensor(shape: [dataset.count, classes], scalars: values)
    }

    private static func read(_ url: URL, key: String, shape: [Int]) throws(CheckpointError) -> Tensor {
        let file = try HDF5File.open(url)
        guard file.hasAttribute("format"), try file.stringAttribute("format") == formatName else {
            throw .invalidContent(file: url.path, path: "/", detail: "not a teacher-logits cache")
        }
        guard try file.stringAttribute("key") == key else {
            throw .invalidContent(file: url.path, path: "/", detail: "its key does not match its name")
        }
        return try file.readTensor("/logits", expectedShape: shape)
    }
}
