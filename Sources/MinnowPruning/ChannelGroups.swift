import MinnowNN

/// How one layer takes part in a channel group.
public enum ChannelRole: String, Codable, Sendable {
    /// A convolution or linear layer whose output channels are the group's (its filters).
    case producer
    /// A layer with one weight per channel that passes the channels through: a batch norm, a
    /// depthwise convolution.
    case perChannel
    /// A convolution or linear layer that reads the group's channels as (some of) its inputs.
    case consumer
}

/// One layer's part in a channel group: the group's channel `i` is the layer's channel
/// `offset + i` (of its outputs for producers and per-channel layers, of its inputs for
/// consumers). A linear layer after a flatten reads each channel once per spatial position:
/// its input feature is `position * stride + offset + i` for `position < positions`.
public struct ChannelMember: Codable, Equatable, Sendable {
    public var layer: String
    public var role: ChannelRole
    public var offset: Int
    public var positions: Int
    public var stride: Int
}

/// Channels that must be pruned together: every layer whose tensors hold them, found from the
/// traced graph (`ChannelGroups.analyze`). Removing channel `i` of the group removes it from every
/// member, so the model keeps fitting together.
public struct ChannelGroup: Codable, Equatable, Sendable {
    /// The group's index in `ChannelGroups.groups`.
    public var id: Int
    public var channels: Int
    public var members: [ChannelMember]
    /// Why the group cannot be pruned (it reaches the model's output, belongs to an excluded layer,
    /// feeds a grouped convolution ...), or nil when it can.
    public var fixedBecause: String?

    public var isPrunable: Bool { fixedBecause == nil }
    /// The paths of the layers whose output channels these are.
    public var producers: [String] { members.filter { $0.role == .producer }.map(\.layer) }
    /// A short name: the first producer's path.
    public var name: String { producers.first ?? members.first?.layer ?? "group \(id)" }
}
