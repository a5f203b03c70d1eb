/// One validation sample rendered after training (an item of fal's `validation` list).
public struct ValidationPrompt: Codable, Sendable, Equatable {
    /// The text prompt for the sample.
    public var prompt: String
    /// An optional first-frame image (image-to-video). If one item has an image, all must.
    public var imageURL: String?

    /// Creates a validation prompt.
    public init(prompt: String, imageURL: String? = nil) {
        self.prompt = prompt
        self.imageURL = imageURL
    }

    enum CodingKeys: String, CodingKey {
        case prompt
        case imageURL = "image_url"
    }

    /// Encodes `image_url` as an explicit `null` when absent, matching the resolved form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(prompt, forKey: .prompt)
        try container.encode(imageURL, forKey: .imageURL)
    }
}
