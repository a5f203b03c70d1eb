/// One input field of the fal request schema: its name, type, range and default.
///
/// ``TrainingRequest/fields`` is the single description of the schema: the validator checks
/// against it and the server's OpenAPI document is generated from it.
public struct RequestField: Sendable {
    /// The type and allowed values of a field.
    public enum Kind: Sendable, Equatable {
        /// A URL string: http(s), or a file this server issued.
        case url
        /// Free text.
        case string
        /// An integer in `min...max`.
        case integer(min: Int, max: Int)
        /// An integer from a fixed set.
        case integerChoice([Int])
        /// A frame count in `min...max` of the form 8n+1.
        case frameCount(min: Int, max: Int)
        /// A number in `min...max`.
        case number(min: Double, max: Double)
        /// `true` or `false`.
        case boolean
        /// `true`, `false` or `null` (null means "decide automatically").
        case optionalBoolean
        /// One of fixed strings.
        case choice([String])
        /// A list of `{prompt, image_url?}` objects.
        case validationList
    }

    /// The fal field name (snake_case), exactly as clients send it.
    public let name: String
    /// Type and range.
    public let kind: Kind
    /// The default filled in when the field is absent; `nil` for a required field.
    public let defaultValue: JSONValue?
    /// A human description (used in the OpenAPI document).
    public let description: String

    /// Whether a request must carry this field.
    public var isRequired: Bool { defaultValue == nil }

    /// Creates a field description.
    public init(_ name: String, _ kind: Kind, default defaultValue: JSONValue?, _ description: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.description = description
    }
}
