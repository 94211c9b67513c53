/// Minnow's version, written into checkpoints' provenance.
public enum MinnowVersion {
    public static let current = "0.1.0"
}
