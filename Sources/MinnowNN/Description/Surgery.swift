import MinnowTensor

/// Which channels of one layer to keep: the layer at `path` (a `Conv2D`, depthwise included, a
/// `BatchNorm` or a `Linear`) keeps the listed output and/or input channels, in the given order.
public struct ChannelSelection: Equatable, Sendable {
    public var path: String
    /// Output channels (features) to keep; nil keeps them all.
    public var outputs: [Int]?
    /// Input channels (features) to keep; nil keeps them all. A depthwise convolution and a batch
    /// norm have one set of channels: give `outputs` only.
    public var inputs: [Int]?

    public init(path: String, outputs: [Int]? = nil, inputs: [Int]? = nil) {
        self.path = path
        self.outputs = outputs
        self.inputs = inputs
    }
}

/// Edits of a model's structure that keep what it learned: a layer replaced, or layers rebuilt
/// with a subset of their channels, with weights, biases, running statistics and the optimizer's
/// slots (SGD momentum, Adam moments) carried over or sliced along, so that training continues
/// after the edit. Each edit works on the model's description (`LayerDescription`): the edited
/// description is built (`registry`), then every tensor is copied from the old model by path, or
/// sliced for the edited layers. The old model is left as it was. See docs/models-as-data.md.
///
/// ```swift
/// // Drop output channels 3 and 5 of a convolution, the batch norm after it, and the next layer's inputs.
/// let keep = [0, 1, 2, 4, 6, 7]
/// let smaller = try Surgery.keepingChannels([
///     ChannelSelection(path: "features.0.conv", outputs: keep), ChannelSelection(path: "features.0.bn", outputs: keep),
///     ChannelSelection(path: "features.1.depthwise.conv", outputs: keep), ...,
/// ], of: model, optimizer: optimizer, registry: .zoo)
/// ```
public enum Surgery {
    /// A copy of `model` in which each selection's layer keeps only the selected channels. The
    /// selections must cover every layer whose shapes change with them (the layers coupled to
    /// the edited channels): a tensor of an unedited layer whose shape no longer fits is an error
    /// naming it. `optimizer`'s slots are replaced by ones that fit the new model.
    public static func keepingChannels(_ selections: [ChannelSelection], of model: any Layer, inputShape: [Int],
                                       optimizer: (any Optimizer)? = nil, registry: LayerRegistry) throws(SurgeryError) -> any Layer {
        let modules = modulesByPath(model)
        var description = try describe(model)
        var slicers: [String: TensorSlicer] = [:]
        for selection in selections {
            guard let module = modules[selection.path] else { throw .noSuchLayer(selection.path) }
            let (spec, slicer) = try edit(module, selection)
            try description.spec.replace(at: components(selection.path), with: spec)
            slicers[selection.path] = slicer
        }
        return try rebuild(model, as: description, inputShape: inputShape, optimizer: optimizer, registry: registry) { modulePath, name, tensor in
            slicers[modulePath].map { $0(name, tensor) } ?? tensor
        }
    }

    /// A copy of `model` in which the layer at `path` is `replacement` (with its weights and
    /// buffers; its optimizer slots start empty). In a block's typed slot (`conv1` of a
    /// `BasicBlock`) the replacement must be of the slot's type; inside a `Sequential` any layer may go.
    public static func replacing(_ path: String, in model: any Layer, with replacement: any Layer, inputShape: [Int],
                                 optimizer: (any Optimizer)? = nil, registry: LayerRegistry) throws(SurgeryError) -> any Layer {
        guard let current = modulesByPath(model)[path] else { throw .noSuchLayer(path) }
        var description = try describe(model)
        let new = try describe(replacement)
        // A layer of the same type goes in as a spec (it fits a block's typed slot too); another type
        // as a described layer, which only a `Sequential`'s slots take.
        try description.spec.replace(at: components(path), with: type(of: current) == type(of: replacement) ? new.spec : JSONValue(encoding: new))
        let replacementTensors = Dictionary(uniqueKeysWithValues: namedTensors(replacement).map { ($0.path, $0.tensor) })
        return try rebuild(model, as: description, inputShape: inputShape, optimizer: optimizer, registry: registry, replaced: path,
                           tensors: replacementTensors) { _, _, tensor in tensor }
    }

    // MARK: Editing one layer

    /// A function that slices a tensor of one layer (named by its property) to the new channels.
    typealias TensorSlicer = (_ name: String, _ tensor: Tensor) -> Tensor

    private static func edit(_ module: Module, _ selection: ChannelSelection) throws(SurgeryError) -> (JSONValue, TensorSlicer) {
        let path = selection.path
        switch module {
        case let conv as Conv2D:
            var spec = conv.spec
            let depthwise = conv.groups > 1 && conv.groups == conv.inputChannels && conv.groups == conv.outputChannels
            if depthwise {
                guard selection.inputs == nil else { throw .invalid(path, "a depthwise convolution has one set of channels: select outputs only") }
                let keep = try checked(selection.outputs, count: conv.outputChannels, path)
                (spec.inputChannels, spec.outputChannels, spec.groups) = (keep.count, keep.count, keep.count)
                return (JSONValue(encoding: spec), { name, tensor in name == "filter" ? tensor.select(keep, axis: 3) : tensor.select(keep, axis: 0) })
            }
            guard conv.groups == 1 || selection.inputs == nil else {
                throw .invalid(path, "input channels of a grouped convolution (groups \(conv.groups)) cannot be selected")
            }
            let outputs = try checked(selection.outputs, count: conv.outputChannels, path)
            let inputs = try checked(selection.inputs, count: conv.inputChannels, path)
            guard outputs.count % conv.groups == 0 else { throw .invalid(path, "\(outputs.count) outputs do not split into \(conv.groups) groups") }
            (spec.inputChannels, spec.outputChannels) = (inputs.count, outputs.count)
            return (JSONValue(encoding: spec), { name, tensor in
                name == "filter" ? (conv.groups == 1 ? tensor.select(inputs, axis: 2) : tensor).select(outputs, axis: 3)
                    : tensor.select(outputs, axis: 0)
            })
        case let linear as Linear:
            var spec = linear.spec
            let outputs = try checked(selection.outputs, count: spec.outputFeatures, path)
            let inputs = try checked(selection.inputs, count: spec.inputFeatures, path)
            (spec.inputFeatures, spec.outputFeatures) = (inputs.count, outputs.count)
            return (JSONValue(encoding: spec), { name, tensor in
                name == "weight" ? tensor.select(inputs, axis: 0).select(outputs, axis: 1) : tensor.select(outputs, axis: 0)
            })
        case let norm as BatchNorm:
            guard selection.inputs == nil else { throw .invalid(path, "a batch norm has one set of channels: select outputs only") }
            var spec = norm.spec
            let keep = try checked(selection.outputs, count: spec.channels, path)
            spec.channels = keep.count
            return (JSONValue(encoding: spec), { _, tensor in tensor.select(keep, axis: 0) })
        default:
            throw .invalid(path, "\(type(of: module)) has no channels to select (Conv2D, BatchNorm or Linear)")
        }
    }

    /// `selection` (or all of `0..<count`) after checking it: in range, no repeats, not empty.
    private static func checked(_ selection: [Int]?, count: Int, _ path: String) throws(SurgeryError) -> [Int] {
        guard let selection else { return Array(0..<count) }
        guard !selection.isEmpty, selection.allSatisfy({ (0..<count).contains($0) }), Set(selection).count == selection.count else {
            throw .invalid(path, "channels \(selection) must be distinct, in 0..<\(count), and at least one")
        }
        return selection
    }

    // MARK: Rebuilding

    /// Builds `description`, fills it with `model`'s tensors (through `transform`; under `replaced`,
    /// from `tensors`), checks that its layers fit together on `inputShape`, then gives
    /// `optimizer` the slots of the new model.
    private static func rebuild(_ model: any Layer, as description: LayerDescription, inputShape: [Int], optimizer: (any Optimizer)?,
                                registry: LayerRegistry, replaced: String? = nil, tensors: [String: Tensor] = [:],
                                transform: (_ modulePath: String, _ name: String, _ tensor: Tensor) -> Tensor) throws(SurgeryError) -> any Layer {
        var generator = SeededGenerator(seed: 0)
        let edited: any Layer
        do {
            edited = try registry.build(description, generator: &generator)
        } catch {
            throw .invalid("", "the edited model cannot be built: \(error)")
        }
        let old = Dictionary(uniqueKeysWithValues: namedTensors(model).map { ($0.path, $0.tensor) })
        var newSlots: [String: [String: Tensor]] = [:]
        for (path, parameter) in edited.namedParameters() where !isUnder(path, replaced) {
            let (modulePath, name) = split(path)
            guard let tensor = old[path] else { throw .invalid(path, "the edited model has a parameter the model lacks") }
            let value = transform(modulePath, name, tensor)
            guard value.shape == parameter.shape else { throw .shapeDoesNotFit(path, model: parameter.shape, found: value.shape) }
            parameter.assign(value)
            for (slot, state) in optimizer?.slots[path] ?? [:] { newSlots[path, default: [:]][slot] = transform(modulePath, name, state) }
        }
        for (path, buffer) in edited.namedBuffers() where !isUnder(path, replaced) {
            let (modulePath, name) = split(path)
            guard let tensor = old[path] else { throw .invalid(path, "the edited model has a buffer the model lacks") }
            let value = transform(modulePath, name, tensor)
            guard value.shape == buffer.value.shape else { throw .shapeDoesNotFit(path, model: buffer.value.shape, found: value.shape) }
            buffer.value = value
        }
        if let replaced { assign(tensors, under: replaced, in: edited) }
        do {
            _ = try ModelGraph.trace(edited, inputShape: inputShape)
        } catch {
            throw .invalid("", "the edited model's layers do not fit together (a layer coupled to the edited channels was not edited?): \(error)")
        }
        copyGenerators(from: model, to: edited)
        optimizer?.slots = newSlots
        return edited
    }

    /// Assigns `tensors` (paths relative to `prefix`) to the parameters and buffers under `prefix`.
    private static func assign(_ tensors: [String: Tensor], under prefix: String, in model: Module) {
        for (path, parameter) in model.namedParameters() where path.hasPrefix(prefix + ".") {
            if let value = tensors[String(path.dropFirst(prefix.count + 1))] { parameter.assign(value) }
        }
        for (path, buffer) in model.namedBuffers() where path.hasPrefix(prefix + ".") {
            if let value = tensors[String(path.dropFirst(prefix.count + 1))] { buffer.value = value }
        }
    }

    /// Dropout generators continue where the old model's were, so training goes on as it would have.
    private static func copyGenerators(from model: Module, to edited: Module) {
        let old = modulesByPath(model)
        edited.visitModules { path, module in
            if let dropout = module as? Dropout, let before = old[path] as? Dropout { dropout.generator = before.generator }
        }
    }

    private static func describe(_ layer: any Layer) throws(SurgeryError) -> LayerDescription {
        do {
            return try LayerDescription(describing: layer)
        } catch {
            throw .invalid("", error.description)
        }
    }

    static func modulesByPath(_ model: Module) -> [String: Module] {
        var result: [String: Module] = [:]
        model.visitModules { path, module in result[path] = module }
        return result
    }

    static func namedTensors(_ model: Module) -> [(path: String, tensor: Tensor)] {
        model.namedParameters().map { ($0.path, $0.parameter.value) } + model.namedBuffers().map { ($0.path, $0.buffer.value) }
    }

    private static func split(_ path: String) -> (module: String, name: String) {
        guard let dot = path.lastIndex(of: ".") else { return ("", path) }
        return (String(path[..<dot]), String(path[path.index(after: dot)...]))
    }

    private static func isUnder(_ path: String, _ prefix: String?) -> Bool {
        guard let prefix else { return false }
        return path == prefix || path.hasPrefix(prefix + ".")
    }

    private static func components(_ path: String) -> [String] {
        path.split(separator: ".").map(String.init)
    }
}

extension JSONValue {
    private var isLayerDescription: Bool {
        if case .object(let object) = self { return object["kind"] != nil && object["spec"] != nil }
        return false
    }

    /// Replaces the node at `path` (module path components) of a layer spec: a field of a block's
    /// spec, an index into a `Sequential`'s layers. A bare spec given for a described layer (one
    /// with a kind) replaces its spec and keeps its kind.
    mutating func replace(at path: [String], with new: JSONValue) throws(SurgeryError) {
        guard case .object(var object) = self else { throw .invalid(path.joined(separator: "."), "the description has no layer here") }
        if path.isEmpty {
            if isLayerDescription, !new.isLayerDescription { object["spec"] = new; self = .object(object) } else { self = new }
            return
        }
        if isLayerDescription, var spec = object["spec"] {
            try spec.replace(at: path, with: new)
            object["spec"] = spec
        } else if let index = Int(path[0]), case .array(var layers)? = object["layers"], layers.indices.contains(index) {
            try layers[index].replace(at: Array(path.dropFirst()), with: new)
            object["layers"] = .array(layers)
        } else if var child = object[path[0]] {
            try child.replace(at: Array(path.dropFirst()), with: new)
            object[path[0]] = child
        } else {
            throw .invalid(path.joined(separator: "."), "the description has no layer '\(path[0])' here")
        }
        self = .object(object)
    }
}

extension Tensor {
    /// The entries at `indices` along `axis`, in that order.
    func select(_ indices: [Int], axis: Int) -> Tensor {
        let outer = shape[..<axis].reduce(1, *), extent = shape[axis], inner = shape[(axis + 1)...].reduce(1, *)
        var resultShape = shape
        resultShape[axis] = indices.count
        let values = scalars
        var result = [Float]()
        result.reserveCapacity(outer * indices.count * inner)
        for o in 0..<outer {
            for index in indices {
                let start = (o * extent + index) * inner
                result.append(contentsOf: values[start..<(start + inner)])
            }
        }
        return Tensor(shape: resultShape, scalars: result)
    }
}

/// Why an edit of a model's structure cannot be made.
public enum SurgeryError: Error, Equatable, CustomStringConvertible {
    /// No module has this path.
    case noSuchLayer(String)
    /// The edit does not fit the layer at the path.
    case invalid(String, String)
    /// After the edit, a tensor of a layer that was not edited no longer fits: a layer coupled to
    /// the edited channels was left out of the selections.
    case shapeDoesNotFit(String, model: [Int], found: [Int])

    public var description: String {
        switch self {
        case .noSuchLayer(let path): "surgery: the model has no layer '\(path)'"
        case .invalid(let path, let detail): "surgery: \(path.isEmpty ? "" : "\(path): ")\(detail)"
        case .shapeDoesNotFit(let path, let model, let found):
            "surgery: \(path) would need shape \(model) but holds \(found): a layer coupled to the edited channels was not edited"
        }
    }
}
