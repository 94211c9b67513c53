import MinnowTensor

/// Captures intermediate activations of one model by module path during its forward passes
/// (feature-based distillation reads them; see docs/distillation.md).
///
/// A recorder is bound to a model and to the paths it watches (the dotted paths of
/// `Module.visitModules`, such as `features.3` or `layers.2`). While it is active (inside
/// `capture { }`), the outputs of the watched modules are kept in `features`, as the autodiff
/// graph's own tensors, so a loss on them trains the layers below. Every layer's output is
/// capturable (calling a layer hands its output over; see `Layer`), and
/// `capturableShapes(of:inputShape:)` lists them.
///
/// ```swift
/// let recorder = FeatureRecorder(model: student, paths: ["features.3"])
/// let logits = recorder.capture { student(images) }
/// let hint = recorder.features["features.3"]!   // [N, 14, 14, 16]
/// ```
public final class FeatureRecorder: @unchecked Sendable {
    /// The recorder of the forward passes running in this task (or thread), if any.
    @TaskLocal public static var current: FeatureRecorder?

    /// The model whose modules are watched (kept alive so their identities stay unique).
    public let model: Module
    /// Watched module → its path.
    private let watched: [ObjectIdentifier: String]
    /// The latest output of each watched module, by path.
    public private(set) var features: [String: Tensor] = [:]

    /// A recorder of `model`'s modules at `paths` (every module when nil). Paths that name no
    /// module are ignored here; `capturableShapes` is the way to validate paths.
    public init(model: Module, paths: Set<String>?) {
        var watched: [ObjectIdentifier: String] = [:]
        model.visitModules { path, module in
            if !path.isEmpty, paths?.contains(path) ?? true { watched[ObjectIdentifier(module)] = path }
        }
        self.model = model
        self.watched = watched
    }

    /// Runs `body` with this recorder active.
    public func capture<R>(_ body: () throws -> R) rethrows -> R {
        try FeatureRecorder.$current.withValue(self) { try body() }
    }

    /// Forgets the captured features (so a later read cannot see a stale one).
    public func removeAll() { features.removeAll(keepingCapacity: true) }

    func record(_ module: Module, _ output: Tensor) {
        if let path = watched[ObjectIdentifier(module)] { features[path] = output }
    }

    /// Every capturable path of `model` with the shape of its output for one image
    /// (without the batch axis), from one forward pass on zeros of `[1] + inputShape` in evaluation
    /// mode without gradients. The model's mode is restored and its state is unchanged.
    public static func capturableShapes(of model: some Layer, inputShape: [Int]) -> [String: [Int]] {
        let recorder = FeatureRecorder(model: model, paths: nil)
        let wasTraining = model.isTraining
        model.eval()
        defer { model.train(wasTraining) }
        recorder.capture { _ = withoutGrad { model(Tensor.zeros([1] + inputShape)) } }
        return recorder.features.mapValues { Array($0.shape.dropFirst()) }
    }
}
