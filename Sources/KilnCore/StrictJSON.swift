/// What Foundation's JSON parser lets through but JSON (RFC 8259), Python's `json` and so
/// fal's own endpoint refuse: a request must not be accepted here and refused there.
enum StrictJSON {
    /// The byte offset of the first trailing comma (a `,` followed, after whitespace, by `}`
    /// or `]`) outside strings, or nil. Foundation on Linux accepts `{"a":1,}`.
    static func trailingCommaOffset(in json: some Collection<UInt8>) -> Int? {
        var inString = false, escaped = false
        var pendingComma: Int?
        for (offset, byte) in json.enumerated() {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                continue
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if let pendingComma { return pendingComma }
            case UInt8(ascii: ","):
                pendingComma = offset
                continue
            case UInt8(ascii: "\""):
                inString = true
            default:
                break
            }
            pendingComma = nil
        }
        return nil
    }
}
