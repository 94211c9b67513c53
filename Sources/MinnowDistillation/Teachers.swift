import Foundation
import MinnowCheckpoint
import MinnowData
import MinnowModels
import MinnowNN
import MinnowTensor

/// One or more trained teachers, in evaluation mode, run without gradients. Their logits are
/// averaged (an ensemble of equal weights); feature losses read the features of the first teacher.
public final class TeacherEnsemble {
    /// A teacher: its model, config, where it came from and the fingerprint of its weights.
    public struct Member {
        public let model: any Layer
        public let config: ModelConfig
        /// The checkpoint it was loaded from (nil for a model built in memory).
        public let source: URL?
        public let fingerprint: Fingerprint
    }

    public let members: [Member]

    /// Teachers built in memory (tests, benchmarks). They are switched to evaluation mode.
    public convenience init(models: [(model: any Layer, config: ModelConfig)]) throws(DistillationError) {
        try self.init(models: models, sources: models.map { _ in nil })
    }

    /// Loads each checkpoint with `ModelCheckpoint.loadModel`.
    public convenience init(checkpoints: [URL]) throws(DistillationError) {
        var models: [(model: any Layer, config: ModelConfig)] = []
        for url in checkpoints {
            do {
                models.append(try ModelCheckpoint.loadModel(from: url))
            } catch {
                throw .teacher(error.description)
            }
        }
        try self.init(models: models, sources: checkpoints)
    }

    private init(models: [(model: any Layer, config: ModelConfig)], sources: [URL?]) throws(DistillationError) {
        guard let first = models.first else { throw .teacher("at least one teacher is needed") }
        for (index, teacher) in models.enumerated() where teacher.config.classes != first.config.classes
            || teacher.config.inputShape != first.config.inputShape {
            throw .teacher("teacher \(index + 1) takes \(teacher.config.inputShape) images with \(teacher.config.classes) classes, "
                + "teacher 1 takes \(first.config.inputShape) with \(first.config.classes): an ensemble needs the same inputs and classes")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        members = models.enumerated().map { index, teacher in
            teacher.model.eval()
            let json = (try? encoder.encode(teacher.config)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            return Member(model: teacher.model, config: teacher.config, source: sources[index],
                          fingerprint: .of(model: teacher.model, configJSON: json))
        }
    }

    /// The class count every teacher predicts.
    public var classes: Int { members[0].config.classes }
    /// The image shape `[H, W, C]` every teacher takes.
    public var inputShape: [Int] { members[0].config.inputShape }

    /// Checks that the teachers take `imageShape` images and predict `classes` classes.
    public func checkFits(imageShape: [Int], classes: Int, dataset: String) throws(DistillationError) {
        guard inputShape == imageShape, self.classes == classes else {
            let source = members[0].source?.path ?? "the teacher"
            throw .teacher("\(source) takes \(inputShape) images with \(self.classes) classes; the data set \(dataset) "
                + "has \(imageShape) images with \(classes) classes")
        }
    }

    /// The fingerprint of the ensemble: its members' fingerprints in order.
    public var fingerprint: Fingerprint {
        var combined = Fingerprint()
        for member in members { combined.combine(member.fingerprint.hex) }
        return combined
    }

    /// The averaged logits `[N, classes]` for `images`, without gradients. When `recorder` is
    /// given (for the first teacher's model), the first teacher's forward pass runs under it.
    public func logits(_ images: Tensor, recorder: FeatureRecorder? = nil) -> Tensor {
        withoutGrad {
            FeatureRecorder.$current.withValue(recorder) {
                let first = members[0].model(images)
                guard members.count > 1 else { return first }
                return FeatureRecorder.$current.withValue(nil) {
                    members.dropFirst().reduce(first) { sum, member in sum + member.model(images) } * (1 / Float(members.count))
                }
            }
        }
    }
}
