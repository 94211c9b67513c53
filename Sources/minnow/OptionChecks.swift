import ArgumentParser

/// Range checks of command-line values. Each failure is a `ValidationError` that names the flag,
/// what it must be and the value given, so a bad number stops the command before any work with a
/// usage error (exit status 2), never deeper in the library.
enum OptionCheck {
    /// Fails unless `value` is absent or satisfies `isValid`; `requirement` completes "FLAG must be ...".
    static func check<Value>(_ flag: String, _ value: Value?, _ requirement: String, _ isValid: (Value) -> Bool) throws {
        guard let value, !isValid(value) else { return }
        throw ValidationError("\(flag) must be \(requirement), got \(value)")
    }

    /// An integer of at least `minimum`.
    static func atLeast(_ flag: String, _ value: Int?, _ minimum: Int) throws {
        try check(flag, value, minimum == 1 ? "positive" : "at least \(minimum)") { $0 >= minimum }
    }

    /// An integer in `range`.
    static func within(_ flag: String, _ value: Int?, _ range: ClosedRange<Int>) throws {
        try check(flag, value, "in \(range.lowerBound)...\(range.upperBound)") { range.contains($0) }
    }

    /// A finite number greater than 0.
    static func positive(_ flag: String, _ value: Float?) throws {
        try check(flag, value, "a positive number") { $0 > 0 && $0.isFinite }
    }

    /// A finite number of at least 0.
    static func nonNegative(_ flag: String, _ value: Float?) throws {
        try check(flag, value, "a number >= 0") { $0 >= 0 && $0.isFinite }
    }

    /// A finite number of at least 0.
    static func nonNegative(_ flag: String, _ value: Double?) throws {
        try check(flag, value, "a number >= 0") { $0 >= 0 && $0.isFinite }
    }

    /// A number in `[lower, upper)`, or `[lower, upper]` when `includingUpper`.
    static func fraction(_ flag: String, _ value: Float?, lower: Float = 0, upper: Float = 1, includingUpper: Bool = false) throws {
        try check(flag, value, "in [\(lower), \(upper)\(includingUpper ? "]" : ")")") {
            $0 >= lower && (includingUpper ? $0 <= upper : $0 < upper)
        }
    }
}
