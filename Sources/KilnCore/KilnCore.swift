/// The app id Kiln answers to, the same as fal's hosted trainer.
public enum KilnApp {
    /// Owner part of the app id.
    public static let owner = "fal-ai"
    /// Name part of the app id.
    public static let name = "ltx23-video-trainer"
    /// `owner/name`, the path a client submits to.
    public static let id = "\(owner)/\(name)"
}
