import ArgumentParser
import MinnowModels

/// Model choice shared by the commands that build a model.
public struct ModelOptions: ParsableArguments {
    public init() {}

    @Option(help: "A preset (\(ModelConfig.presetNames.joined(separator: ", "))) or an architecture (\(ModelConfig.Architecture.allCases.map(\.rawValue).joined(separator: ", "))).")
    public var model: String?

    @Option(help: "Width multiplier for an architecture (presets fix their own).")
    public var width: Float?

    @Option(help: "ResNet depth, 6n+2 (8, 14, 20, ...).")
    public var depth: Int?

    @Option(help: "Dropout before the classifier (MobileNets, SqueezeNet).")
    public var dropout: Float?

    @Option(help: "Seed of the weight initialization (default: 0).")
    public var initSeed: UInt64?

    public func validate() throws {
        try Self.validate(width: width, depth: depth, dropout: dropout)
    }

    /// Range checks of the size options (shared with `distill`'s student options).
    public static func validate(width: Float?, depth: Int?, dropout: Float?) throws {
        try OptionCheck.check("--width", width, "in (0, 8]") { $0 > 0 && $0 <= 8 }
        try OptionCheck.within("--depth", depth, 2...1000)
        try OptionCheck.fraction("--dropout", dropout)
    }

    /// The options given on the command line.
    public var given: [String] {
        [("--model", model != nil), ("--width", width != nil), ("--depth", depth != nil), ("--dropout", dropout != nil),
         ("--init-seed", initSeed != nil)].filter(\.1).map(\.0)
    }

    public func config() throws -> ModelConfig {
        guard let model else { throw ValidationError("--model is required") }
        return try Self.config(model: model, width: width, depth: depth, dropout: dropout, initSeed: initSeed ?? 0)
    }

    /// The config of a preset or of an architecture with its size options (shared with `distill --student`).
    public static func config(model: String, width: Float?, depth: Int?, dropout: Float?, initSeed: UInt64) throws -> ModelConfig {
        do {
            return try ModelConfig.named(model, width: width, depth: depth, dropout: dropout, seed: initSeed)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
