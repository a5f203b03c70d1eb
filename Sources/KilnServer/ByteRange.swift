/// One satisfiable byte range from an HTTP `Range` header (RFC 9110 §14.1.2).
///
/// Only single ranges are honoured; a multi-range request is answered with the whole file,
/// which RFC 9110 allows.
public enum ByteRange: Equatable, Sendable {
    /// The header was absent, malformed or asked for several ranges: send the whole file.
    case whole
    /// A satisfiable range, as inclusive offsets into the file.
    case partial(ClosedRange<Int64>)
    /// The range lies past the end of the file: answer 416.
    case unsatisfiable

    /// Parses a `Range` header value against a file of `size` bytes.
    public static func parse(_ header: String?, size: Int64) -> ByteRange {
        guard let header, header.hasPrefix("bytes=") else { return .whole }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: " ")
        guard !spec.contains(",") else { return .whole }
        guard let dash = spec.firstIndex(of: "-") else { return .whole }
        let first = spec[..<dash].trimmingCharacters(in: " ")
        let last = spec[spec.index(after: dash)...].trimmingCharacters(in: " ")
        if first.isEmpty {
            // Suffix form: the last N bytes.
            guard let n = Int64(last), n >= 0 else { return .whole }
            guard n > 0, size > 0 else { return .unsatisfiable }
            return .partial(max(0, size - n)...(size - 1))
        }
        guard let start = Int64(first), start >= 0 else { return .whole }
        guard start < size else { return .unsatisfiable }
        if last.isEmpty { return .partial(start...(size - 1)) }
        guard let end = Int64(last), end >= start else { return .whole }
        return .partial(start...min(end, size - 1))
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in character: Character) -> String {
        String(self.drop(while: { $0 == character }).reversed().drop(while: { $0 == character }).reversed())
    }
}
