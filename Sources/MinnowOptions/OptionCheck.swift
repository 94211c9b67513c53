import ArgumentParser
import MinnowModels

/// Range checks of option values. Each failure is a `ValidationError` that names the flag, what it
/// must be and the value given, so a bad number stops the command (or the experiment file, whose
/// keys are the same names) before any work with a usage error, never deeper in the library.
public enum OptionCheck {
    /// Upper bounds of the numbers a user types (an error names the range): far above any real use, low enough
    /// that no product or conversion of them overflows or asks for memory no machine has.
    public static let maximumEpochs = 100_000, maximumBatch = 65_536, maximumSteps = 100_000_000, maximumImages = 100_000_000,
               maximumExtent = 4096

    /// Fails unless `value` is absent or satisfies `isValid`; `requirement` completes "FLAG must be ...".
    public static func check<Value>(_ flag: String, _ value: Value?, _ requirement: String, _ isValid: (Value) -> Bool) throws {
        guard let value, !isValid(value) else { return }
        throw ValidationError("\(flag) must be \(requirement), got \(value)")
    }

    /// An integer in `range`.
    public static func within(_ flag: String, _ value: Int?, _ range: ClosedRange<Int>) throws {
        try check(flag, value, "in \(range.lowerBound)...\(range.upperBound)") { range.contains($0) }
    }

    /// A finite number greater than 0.
    public static func positive(_ flag: String, _ value: Float?) throws {
        try check(flag, value, "a positive number") { $0 > 0 && $0.isFinite }
    }

    /// A finite number of at least 0.
    public static func nonNegative(_ flag: String, _ value: Float?) throws {
        try check(flag, value, "a number >= 0") { $0 >= 0 && $0.isFinite }
    }

    /// A finite number of at least 0.
    public static func nonNegative(_ flag: String, _ value: Double?) throws {
        try check(flag, value, "a number >= 0") { $0 >= 0 && $0.isFinite }
    }

    /// A number in `[lower, upper)`, or `[lower, upper]` when `includingUpper`.
    public static func fraction(_ flag: String, _ value: Float?, lower: Float = 0, upper: Float = 1, includingUpper: Bool = false) throws {
        try check(flag, value, "in [\(lower), \(upper)\(includingUpper ? "]" : ")")") {
            $0 >= lower && (includingUpper ? $0 <= upper : $0 < upper)
        }
    }

    /// The name of a model preset.
    public static func preset(_ flag: String, _ name: String) throws {
        try check(flag, name, "a preset (\(ModelConfig.presetNames.joined(separator: ", ")))") { ModelConfig.preset($0) != nil }
    }
}
