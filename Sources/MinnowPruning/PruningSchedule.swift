import MinnowNN

/// When channels are removed during training, and how many each time.
public struct PruningSchedule: ForwardCompatible, Equatable, Sendable {
    public static let requiredKeys: Set<String> = ["kind"]
    public enum Kind: String, Codable, CaseIterable, Sendable {
        /// Everything at `start`, then fine-tuning.
        case oneshot
        /// `steps` equal parts of the removal, `every` steps apart from `start`, fine-tuning in between.
        case iterative
        /// Automated gradual pruning (Zhu & Gupta 2017): at `start + j * every` for j = 0...steps the
        /// removed fraction is `s_f + (s_i - s_f) (1 - j / steps)^3`.
        case agp
    }

    public var kind: Kind
    /// The training step of the first pruning.
    public var start: Int
    /// Pruning events after the first (`iterative`: the number of events; `agp`: n).
    public var steps: Int
    /// Training steps between events.
    public var every: Int
    /// The removed fraction at `start` (`agp`'s s_i).
    public var initialRemoved: Double

    public init(kind: Kind, start: Int = 0, steps: Int = 1, every: Int = 1, initialRemoved: Double = 0) throws(PruningError) {
        guard start >= 0 else { throw .invalidOption("--prune-start", "must be >= 0, got \(start)") }
        guard steps >= 1 else { throw .invalidOption("--prune-steps", "must be >= 1, got \(steps)") }
        guard every >= 1 else { throw .invalidOption("--prune-every", "must be at least one training step, got \(every)") }
        guard (0..<1).contains(initialRemoved) else { throw .invalidOption("--initial-ratio", "must be in [0, 1), got \(initialRemoved)") }
        (self.kind, self.start, self.steps, self.every, self.initialRemoved) = (kind, start, steps, every, initialRemoved)
    }

    /// Decodes a schedule; `start` (0), `steps` (1), `every` (1) and `initialRemoved` (0) default
    /// when an older file lacks them, and the values are checked as `init` checks them.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(kind: try c.decode(Kind.self, forKey: .kind), start: try c.decode(.start, or: 0), steps: try c.decode(.steps, or: 1),
                      every: try c.decode(.every, or: 1), initialRemoved: try c.decode(.initialRemoved, or: 0))
    }

    /// The pruning events: at which training step the model keeps which fraction of the measure
    /// (`final`: the target's fraction kept at the end). Events that keep everything are left out.
    public func events(finalKept final: Double) -> [(step: Int, kept: Double)] {
        let finalRemoved = 1 - final
        let all: [(Int, Double)]
        switch kind {
        case .oneshot:
            all = [(start, final)]
        case .iterative:
            all = (0..<steps).map { j in (start + j * every, 1 - finalRemoved * Double(j + 1) / Double(steps)) }
        case .agp:
            all = (0...steps).map { j in
                let progress = 1 - Double(j) / Double(steps)
                return (start + j * every, 1 - (finalRemoved + (initialRemoved - finalRemoved) * progress * progress * progress))
            }
        }
        return all.filter { $0.1 < 1 }.map { (step: $0.0, kept: $0.1) }
    }

    /// The step of the last event.
    public func lastStep(finalKept final: Double) -> Int { events(finalKept: final).last?.step ?? start }
}
