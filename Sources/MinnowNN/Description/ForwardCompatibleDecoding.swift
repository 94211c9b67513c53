/// Forward-compatible settings files: a struct written to disk (run manifests, distillation,
/// pruning and quantization settings, layer specs, quantization schemes) decodes files written
/// before one of its fields existed, with the field's documented default. Each such struct
/// decodes its fields with `decode(_:or:)`; the fields every file has always had (an
/// architecture's channel counts, a pruning target) stay required and are listed by the
/// struct's `requiredKeys`, which `ForwardCompatibilityTests` checks: removing any other key from
/// a saved file still decodes.
public protocol ForwardCompatible: Codable {
    /// The keys without a default (present in every file ever written).
    static var requiredKeys: Set<String> { get }
}

extension KeyedDecodingContainer {
    /// The value at `key`, or `fallback` when the file lacks it (written before the field existed).
    public func decode<Value: Decodable>(_ key: Key, or fallback: @autoclosure () -> Value) throws -> Value {
        try decodeIfPresent(Value.self, forKey: key) ?? fallback()
    }
}
