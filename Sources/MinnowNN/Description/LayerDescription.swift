import Foundation
import MinnowTensor

/// A layer type that a `LayerDescription` can rebuild: its constructor arguments (for a block,
/// its children's specs) as a `Codable` value, and a way back from that value to a layer.
///
/// Adding a layer type to descriptions is one conformance: a `Spec`, a `kind` name, the `spec`
/// of a live layer and `init(spec:generator:registry:)`; then the type is listed in the registry
/// that builds models (`LayerRegistry.core` here, `LayerRegistry.zoo` in MinnowModels). See
/// docs/models-as-data.md.
public protocol DescribableLayer: Layer {
    associatedtype Spec: Codable & Equatable & Sendable
    /// The name of the layer type in descriptions (`conv2d`, `basic_block`, ...).
    static var kind: String { get }
    /// What rebuilds this layer as it is now (edited channel counts included), weights aside.
    /// Throws when a child cannot be described.
    var spec: Spec { get throws(DescriptionError) }
    /// A layer of `spec` with fresh weights from `generator`, drawn in the order the layer's
    /// other initializers draw them; `registry` builds children described by kind.
    init(spec: Spec, generator: inout SeededGenerator, registry: LayerRegistry) throws(DescriptionError)
}

/// A layer as data: its kind and its spec (as JSON values). It rebuilds the layer through a
/// `LayerRegistry`, with the same parameter paths.
public struct LayerDescription: Codable, Equatable, Sendable {
    /// The layer type's `DescribableLayer.kind`.
    public var kind: String
    /// The layer's spec.
    public var spec: JSONValue

    public init(kind: String, spec: JSONValue) {
        self.kind = kind
        self.spec = spec
    }

    /// The description of `layer` as it is now.
    public init<L: DescribableLayer>(_ layer: L) throws(DescriptionError) {
        kind = L.kind
        spec = JSONValue(encoding: try layer.spec)
    }

    /// The description of `layer`, or an error naming its type when it cannot be described.
    public init(describing layer: any Layer) throws(DescriptionError) {
        guard let describable = layer as? any DescribableLayer else {
            throw .notDescribable(String(describing: type(of: layer)))
        }
        try self.init(describable)
    }

    /// The spec decoded as `type`.
    public func spec<S: Decodable>(as type: S.Type) throws(DescriptionError) -> S {
        do {
            return try JSONDecoder().decode(S.self, from: JSONEncoder().encode(spec))
        } catch {
            throw .invalidSpec(kind: kind, detail: "\(error)")
        }
    }
}

/// The layer types a description may name, by kind.
public struct LayerRegistry: Sendable {
    /// Layer type by kind.
    public let types: [String: any DescribableLayer.Type]

    public init(_ types: [any DescribableLayer.Type]) {
        self.types = Dictionary(types.map { ($0.kind, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// This registry with `types` added.
    public func adding(_ types: [any DescribableLayer.Type]) -> LayerRegistry {
        LayerRegistry(Array(self.types.values) + types)
    }

    /// The layers of MinnowNN.
    public static let core = LayerRegistry([
        Conv2D.self, Linear.self, BatchNorm.self, Activation.self, MaxPool2D.self, AvgPool2D.self,
        GlobalAvgPool2D.self, Flatten.self, Dropout.self, Sequential.self,
    ])

    /// Builds the layer `description` describes, with fresh weights from `generator`.
    public func build(_ description: LayerDescription, generator: inout SeededGenerator) throws(DescriptionError) -> any Layer {
        guard let type = types[description.kind] else {
            throw .unknownKind(description.kind, known: types.keys.sorted())
        }
        return try type.build(description, generator: &generator, registry: self)
    }
}

extension DescribableLayer {
    fileprivate static func build(_ description: LayerDescription, generator: inout SeededGenerator,
                                  registry: LayerRegistry) throws(DescriptionError) -> any Layer {
        try Self(spec: description.spec(as: Spec.self), generator: &generator, registry: registry)
    }
}

/// Why a description cannot be made or built.
public enum DescriptionError: Error, Equatable, CustomStringConvertible {
    /// A layer type that does not conform to `DescribableLayer`.
    case notDescribable(String)
    /// A kind no registered type has.
    case unknownKind(String, known: [String])
    /// A spec that does not decode, or whose values cannot make a layer.
    case invalidSpec(kind: String, detail: String)

    public var description: String {
        switch self {
        case .notDescribable(let type): "model description: the layer type \(type) cannot be described (it does not conform to DescribableLayer)"
        case .unknownKind(let kind, let known): "model description: unknown layer kind '\(kind)'; known kinds: \(known.joined(separator: ", "))"
        case .invalidSpec(let kind, let detail): "model description: invalid \(kind): \(detail)"
        }
    }
}

extension LayerDescription {
    /// The most weights one layer of a description may ask for (2^27, 512 MB of float32): checked
    /// before the weights are allocated, so that a hand-edited description cannot ask for memory no
    /// machine has.
    public static let maximumParameters = 1 << 27
}

/// Fails with `DescriptionError.invalidSpec` unless the product of `factors` (a layer's weight
/// count) is at most `LayerDescription.maximumParameters`; no product overflows.
func requireParameters(_ factors: [Int], _ kind: String) throws(DescriptionError) {
    var product = 1
    for factor in factors {
        let (next, overflow) = product.multipliedReportingOverflow(by: max(factor, 0))
        guard !overflow, next <= LayerDescription.maximumParameters else {
            throw .invalidSpec(kind: kind, detail: "\(factors.map(String.init).joined(separator: " x ")) weights: more than \(LayerDescription.maximumParameters)")
        }
        product = next
    }
}

/// Fails with `DescriptionError.invalidSpec` unless `condition` holds.
func requireSpec(_ condition: Bool, _ kind: String, _ detail: @autoclosure () -> String) throws(DescriptionError) {
    guard condition else { throw .invalidSpec(kind: kind, detail: detail()) }
}
