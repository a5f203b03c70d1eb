/// Output aspect ratio (fal's `aspect_ratio` / `validation_aspect_ratio`).
public enum AspectRatio: String, Codable, Sendable, CaseIterable {
    /// Landscape 16:9.
    case landscape = "16:9"
    /// Square 1:1.
    case square = "1:1"
    /// Portrait 9:16.
    case portrait = "9:16"

    /// The frame size Kiln uses for this aspect ratio at `resolution`.
    ///
    /// Every side is divisible by 32, which the LTX VAE needs (ARCHITECTURE.md §3).
    public func frameSize(_ resolution: Resolution) -> (width: Int, height: Int) {
        switch (resolution, self) {
        case (.low, .square): return (512, 512)
        case (.low, .landscape): return (672, 384)
        case (.low, .portrait): return (384, 672)
        case (.medium, .square): return (768, 768)
        case (.medium, .landscape): return (960, 544)
        case (.medium, .portrait): return (544, 960)
        case (.high, .square): return (1024, 1024)
        case (.high, .landscape): return (1280, 704)
        case (.high, .portrait): return (704, 1280)
        }
    }
}
