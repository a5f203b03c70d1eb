/// Namespace for server-wide constants.
public enum KilnServer {
    /// Owner id of every job and file created in open local mode (no API keys exist).
    public static let localOwner = "local"
    /// The fal application id Kiln serves.
    public static let appID = "fal-ai/ltx23-video-trainer"
}
