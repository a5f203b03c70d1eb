import Foundation

/// One part of an issue's location: a field name or a list index.
/// Encodes as a bare JSON string or integer, as in `["body","validation",0,"image_url"]`.
public enum LocationPart: Codable, Sendable, Hashable, ExpressibleByStringLiteral,
    ExpressibleByIntegerLiteral, CustomStringConvertible
{
    /// A field name.
    case key(String)
    /// A list index.
    case index(Int)

    /// Creates a key part from a string literal.
    public init(stringLiteral value: String) { self = .key(value) }
    /// Creates an index part from an integer literal.
    public init(integerLiteral value: Int) { self = .index(value) }

    /// Decodes a string or an integer.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let index = try? container.decode(Int.self) {
            self = .index(index)
        } else {
            self = .key(try container.decode(String.self))
        }
    }

    /// Encodes a bare string or integer.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .key(let key): try container.encode(key)
        case .index(let index): try container.encode(index)
        }
    }

    /// The part as written in a dotted path.
    public var description: String {
        switch self {
        case .key(let key): key
        case .index(let index): String(index)
        }
    }
}

/// One problem with a request, in fal's (pydantic's) error shape `{loc, msg, type}`.
public struct ValidationIssue: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Where the problem is, starting with `"body"`.
    public var loc: [LocationPart]
    /// What is wrong, for a human.
    public var msg: String
    /// A machine-readable kind (`missing`, `extra_forbidden`, `less_than_equal`, ...).
    public var type: String

    /// Creates an issue.
    public init(loc: [LocationPart], msg: String, type: String) {
        self.loc = loc
        self.msg = msg
        self.type = type
    }

    /// `body.field: message`.
    public var description: String {
        "\(loc.map(\.description).joined(separator: ".")): \(msg)"
    }
}

/// A request that failed validation; carries every problem found, one issue per bad field.
public struct RequestValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Every problem, in schema order (unknown fields last).
    public var issues: [ValidationIssue]

    /// Creates an error from its issues.
    public init(issues: [ValidationIssue]) {
        self.issues = issues
    }

    /// Whether the body was not JSON at all (rather than JSON with bad fields).
    public var isMalformedJSON: Bool { issues.contains { $0.type == "json_invalid" } }

    /// The fal/FastAPI error body: `{"detail":[{"loc":[...],"msg":...,"type":...}, ...]}`.
    public func detailJSON() -> Data {
        struct Body: Encodable { let detail: [ValidationIssue] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings and integers cannot fail.
        return (try? encoder.encode(Body(detail: issues))) ?? Data(#"{"detail":[]}"#.utf8)
    }

    /// One line per issue, saying which field is wrong and why.
    public var description: String {
        "the request is invalid: " + issues.map(\.description).joined(separator: "; ")
    }
}
