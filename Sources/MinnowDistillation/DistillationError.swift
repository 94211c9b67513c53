/// Why distillation could not start or go on. Every case but `notCaptured` is raised before the
/// first training step.
public enum DistillationError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A setting is out of range (temperature, alpha, weights, a malformed layer pair).
    case invalidSetting(String)
    /// A layer path names no capturable module of the student or the teacher.
    case unknownLayer(model: String, path: String, detail: String, nearby: [String])
    /// The two layers of a pair have shapes the loss cannot compare.
    case shapeMismatch(String)
    /// The teacher does not fit the data set or the other teachers (classes, input shape), or cannot be loaded.
    case teacher(String)
    /// The teacher-output cache could not be written.
    case cache(String)
    /// A feature loss found no captured feature map: the `Distiller` was used outside
    /// `capturingStudentFeatures` (a programming error of the caller, reported before the step is applied).
    case notCaptured(String)

    public var description: String {
        switch self {
        case .invalidSetting(let message): "distillation: \(message)"
        case let .unknownLayer(model, path, detail, nearby):
            "distillation: the \(model) has no capturable layer '\(path)' (\(detail)); nearby valid paths: "
                + nearby.joined(separator: ", ")
        case .shapeMismatch(let message): "distillation: \(message)"
        case .teacher(let message): "distillation: teacher: \(message)"
        case .cache(let message): "distillation: teacher cache: \(message)"
        case .notCaptured(let message): "distillation: \(message)"
        }
    }
}

/// A student layer and the teacher layer it learns from, by module path (`features.6:layers.3`).
public struct LayerPair: Codable, Hashable, Sendable, CustomStringConvertible {
    public var student: String
    public var teacher: String

    public init(student: String, teacher: String) {
        self.student = student
        self.teacher = teacher
    }

    /// Parses `studentPath:teacherPath`.
    public init(parsing text: String) throws(DistillationError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw .invalidSetting("a layer pair must be studentPath:teacherPath (e.g. features.6:layers.3), got '\(text)'")
        }
        self.init(student: String(parts[0]), teacher: String(parts[1]))
    }

    public var description: String { "\(student):\(teacher)" }
}

/// Checks layer paths against what a model can capture.
enum LayerPaths {
    /// The per-image output shape of `path` among `capturable` (path → shape), or an error
    /// saying whether the path is a module that did not run as a layer, with the nearest valid paths.
    static func shape(of path: String, in capturable: [String: [Int]], modulePaths: Set<String>,
                      model: String) throws(DistillationError) -> [Int] {
        if let shape = capturable[path] { return shape }
        let detail = modulePaths.contains(path)
            ? "it is a module, but it does not run as a layer in the forward pass"
            : "no module has this path"
        throw .unknownLayer(model: model, path: path, detail: detail, nearby: nearby(path, among: Array(capturable.keys)))
    }

    /// Up to `count` of `candidates` closest to `path` by edit distance, closest first.
    static func nearby(_ path: String, among candidates: [String], count: Int = 8) -> [String] {
        candidates.map { ($0, editDistance(path, $0)) }
            .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .prefix(count).map(\.0)
    }

    /// Levenshtein distance between two strings (by characters).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let b = Array(b)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
