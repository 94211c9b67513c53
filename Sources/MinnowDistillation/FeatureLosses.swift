import MinnowNN
import MinnowTensor

/// A FitNets hint (Romero, Ballas, Kahou, Chassang, Gatta & Bengio, ICLR 2015, "FitNets: Hints for
/// Thin Deep Nets", arXiv:1412.6550): a learned regressor maps a student feature map (the guided
/// layer) to the shape of a teacher feature map (the hint), and the loss is their squared distance:
///
///     loss = weight * mean((conv1x1(student) - teacher)²)
///
/// The regressor here is a 1x1 convolution with bias from the student's channels to the teacher's,
/// so the two maps must have the same height and width. The paper's `1/2 ||·||²` sum becomes a mean
/// over all elements (as `F.mse_loss` in mdistiller's FitNet), and the hint trains jointly with the
/// response loss instead of in a separate first stage. The adapter trains with the student (it is
/// an auxiliary module of the trainer) and is saved in its checkpoints under `/auxiliary/distillation`.
public final class FitNetsHint: Module, @unchecked Sendable {
    /// The student layer (guided) and the teacher layer (hint).
    public let pair: LayerPair
    /// The regressor: `[1, 1, studentChannels, teacherChannels]` filter and a bias.
    public let adapter: Conv2D

    public init(pair: LayerPair, studentChannels: Int, teacherChannels: Int, generator: inout SeededGenerator) {
        self.pair = pair
        adapter = Conv2D(studentChannels, teacherChannels, kernelSize: 1, padding: 0, generator: &generator)
    }

    /// `mean((adapter(studentFeature) - teacherFeature)²)`, unweighted.
    public func callAsFunction(studentFeature: Tensor, teacherFeature: Tensor) -> Tensor {
        Self.loss(studentFeature: studentFeature, teacherFeature: teacherFeature,
                  filter: adapter.filter.value, bias: adapter.bias!.value)
    }

    /// The hint loss for an adapter with `filter` (HWIO, 1x1) and `bias`: NHWC feature maps of the
    /// same batch, height and width.
    public static func loss(studentFeature: Tensor, teacherFeature: Tensor, filter: Tensor, bias: Tensor) -> Tensor {
        mseLoss(conv2d(studentFeature, filter, bias: bias), teacherFeature)
    }
}

/// The trainable part of a distillation objective: the FitNets adapters, one per hint pair
/// (paths `hints.0.adapter.filter`, ...).
public final class DistillationAdapters: Module, @unchecked Sendable {
    public let hints: [FitNetsHint]

    public init(hints: [FitNetsHint]) { self.hints = hints }
}

/// Attention transfer (Zagoruyko & Komodakis, ICLR 2017, "Paying More Attention to Attention:
/// Improving the Performance of Convolutional Neural Networks via Attention Transfer",
/// arXiv:1612.03928), activation-based, at chosen layer pairs.
///
/// The attention map of a feature map `A` (`[N, H, W, C]`) is `Q = mean_c |A_c|^p` (p = 2),
/// flattened to `[N, H*W]` and L2-normalized per image: `q = Q / ||Q||_2`. For each pair:
///
///     loss = beta / 2 * mean_{n, positions} (q_student - q_teacher)²
///
/// This is the authors' released code (`at_loss = (at(x) - at(y)).pow(2).mean()`, summed over pairs
/// and multiplied by `beta / 2`, beta = 1000), which differs from the paper's eq. 2 (a non-squared
/// p-norm of the difference per image): the code is what produced the published results. The
/// normalization divides by `sqrt(||Q||² + 1e-24)` where PyTorch's `F.normalize` divides by
/// `max(||Q||, 1e-12)`: the same for any map that is not all zeros, and differentiable at zero.
/// Channel counts may differ; heights and widths must match.
public struct AttentionTransfer: Codable, Equatable, Sendable {
    /// The weight: the loss is `beta / 2` times the mean squared difference of the maps.
    public var beta: Float
    /// The exponent of the attention map `mean_c |A_c|^p`.
    public var p: Float

    public init(beta: Float = 1000, p: Float = 2) {
        self.beta = beta
        self.p = p
    }

    /// Checks beta and p.
    public func validate() throws(DistillationError) {
        guard beta >= 0, beta.isFinite, p > 0, p.isFinite else {
            throw .invalidSetting("attention transfer needs beta >= 0 and p > 0, got beta \(beta), p \(p)")
        }
    }

    /// The normalized attention map `[N, H*W]` of an NHWC feature map.
    public static func attentionMap(_ feature: Tensor, p: Float = 2) -> Tensor {
        require(feature.rank == 4, "attentionMap: the feature map must be [N, H, W, C], got \(feature.shape)")
        let (n, h, w) = (feature.shape[0], feature.shape[1], feature.shape[2])
        let powered = p == 2 ? feature.squared() : feature.abs().pow(p)
        let map = powered.mean(axes: [3]).reshaped([n, h * w])
        return map / (map.squared().sum(axes: [1], keepDims: true) + 1e-24).sqrt()
    }

    /// `beta / 2 * mean((q_student - q_teacher)²)` for one layer pair.
    public func callAsFunction(studentFeature: Tensor, teacherFeature: Tensor) -> Tensor {
        require(studentFeature.rank == 4 && teacherFeature.rank == 4
                    && studentFeature.shape.prefix(3) == teacherFeature.shape.prefix(3),
                "attention transfer: feature maps must be [N, H, W, C] with the same N, H, W, got \(studentFeature.shape) and \(teacherFeature.shape)")
        let difference = Self.attentionMap(studentFeature, p: p) - Self.attentionMap(teacherFeature, p: p)
        return difference.squared().mean() * (beta / 2)
    }
}
