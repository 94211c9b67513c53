extension ModelConfig {
    /// The config of `name`, a preset (`teacher`, `student_mbv2`, `student_squeeze`) or an
    /// architecture (`cnn`, `resnet`, ...) with its size knobs, checked by building it once. A preset
    /// fixes its width and depth, so giving them is an error; an unknown name lists the choices.
    public static func named(_ name: String, width: Float? = nil, depth: Int? = nil, dropout: Float? = nil,
                             seed: UInt64 = 0) throws(ModelConfigError) -> ModelConfig {
        if let preset = preset(name, seed: seed) {
            guard width == nil, depth == nil else {
                throw ModelConfigError(description: "--width and --depth apply to architectures; the preset '\(name)' fixes them")
            }
            return preset
        }
        guard let architecture = Architecture(rawValue: name) else {
            throw ModelConfigError(description: "unknown model '\(name)'; choose a preset (\(presetNames.joined(separator: ", "))) or an architecture (\(Architecture.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let config = ModelConfig(architecture: architecture, width: width ?? 1, depth: depth ?? 14, dropout: dropout, seed: seed)
        _ = try ModelZoo.build(config)
        return config
    }
}
