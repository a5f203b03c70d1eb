/// Training or validation resolution bucket (fal's `resolution` / `validation_resolution`).
public enum Resolution: String, Codable, Sendable, CaseIterable {
    /// The smallest bucket (512 px on the short square side).
    case low
    /// The middle bucket, the training default.
    case medium
    /// The largest bucket, the validation default.
    case high
}
