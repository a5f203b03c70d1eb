import Foundation

/// Turns a client's raw JSON body into a resolved ``TrainingRequest``, or every problem in it.
///
/// Validation is against ``TrainingRequest/fields``. It never stops at the first problem:
/// a body with five bad fields answers five issues. Types are strict (a `"32"` is not a
/// rank, a `1` is not `true`), except that an integral number such as `32.0` is an integer.
public enum RequestValidator {
    /// Parses and validates `json`.
    ///
    /// - Parameter isIssuedFileURL: whether a URL names a file this server issued (such a
    ///   URL is allowed for `training_data_url` and `image_url` whatever its scheme).
    public static func resolve(
        json: Data,
        isIssuedFileURL: (String) -> Bool = { _ in false }
    ) -> Result<TrainingRequest, RequestValidationError> {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: json)
        } catch {
            let msg = json.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) })
                ? "JSON decode error: the body is empty; send the request as a JSON object"
                : "JSON decode error: \(describe(error, json: json))"
            return .failure(RequestValidationError(issues: [
                ValidationIssue(loc: ["body"], msg: msg, type: "json_invalid")
            ]))
        }
        if let offset = StrictJSON.trailingCommaOffset(in: json) {
            return .failure(RequestValidationError(issues: [
                ValidationIssue(loc: ["body"], msg: "JSON decode error: trailing comma around character \(offset); remove it",
                                type: "json_invalid")
            ]))
        }
        return resolve(value: value, isIssuedFileURL: isIssuedFileURL)
    }

    /// Validates an already parsed body.
    public static func resolve(
        value: JSONValue,
        isIssuedFileURL: (String) -> Bool = { _ in false }
    ) -> Result<TrainingRequest, RequestValidationError> {
        guard case .object(let body) = value else {
            return .failure(RequestValidationError(issues: [
                ValidationIssue(
                    loc: ["body"],
                    msg: "Input should be a valid dictionary or object to extract fields from (got \(value.typeName))",
                    type: "model_attributes_type")
            ]))
        }
        return withoutActuallyEscaping(isIssuedFileURL) { isIssued in
            resolve(body: body, isIssuedFileURL: isIssued)
        }
    }

    private static func resolve(
        body: [String: JSONValue],
        isIssuedFileURL: @escaping (String) -> Bool
    ) -> Result<TrainingRequest, RequestValidationError> {
        var issues: [ValidationIssue] = []
        var resolved: [String: JSONValue] = [:]
        for field in TrainingRequest.fields {
            guard let given = body[field.name] else {
                if let fallback = field.defaultValue {
                    resolved[field.name] = fallback
                } else {
                    issues.append(ValidationIssue(loc: ["body", .key(field.name)], msg: "Field required", type: "missing"))
                }
                continue
            }
            let checker = FieldChecker(loc: ["body", .key(field.name)], isIssuedFileURL: isIssuedFileURL)
            if let normalised = checker.check(given, as: field.kind, into: &issues) {
                resolved[field.name] = normalised
            }
        }
        let known = Set(TrainingRequest.fields.map(\.name))
        for name in body.keys.sorted() where !known.contains(name) {
            issues.append(ValidationIssue(loc: ["body", .key(name)], msg: "Extra inputs are not permitted", type: "extra_forbidden"))
        }
        guard issues.isEmpty else { return .failure(RequestValidationError(issues: issues)) }
        do {
            let data = try JSONEncoder().encode(JSONValue.object(resolved))
            return .success(try JSONDecoder().decode(TrainingRequest.self, from: data))
        } catch {
            // Unreachable when `fields` and `TrainingRequest` agree; a test pins that.
            return .failure(RequestValidationError(issues: [
                ValidationIssue(loc: ["body"], msg: "internal schema mismatch: \(error)", type: "value_error")
            ]))
        }
    }

    /// Whether `string` is an absolute http(s) URL with a host.
    public static func isHTTPURL(_ string: String) -> Bool {
        guard let components = URLComponents(string: string),
              let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https",
              let host = components.host, !host.isEmpty
        else { return false }
        return true
    }

    /// A message that says where the JSON breaks: JSONDecoder only says "not valid JSON",
    /// JSONSerialization names the position.
    private static func describe(_ error: any Error, json: Data) -> String {
        do {
            _ = try JSONSerialization.jsonObject(with: json, options: [.fragmentsAllowed])
        } catch {
            if let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String { return detail }
        }
        if case DecodingError.dataCorrupted(let context) = error { return context.debugDescription }
        return "\(error)"
    }
}

/// Checks one value against a field kind, appending issues; returns the normalised value.
private struct FieldChecker {
    let loc: [LocationPart]
    let isIssuedFileURL: (String) -> Bool

    func check(_ value: JSONValue, as kind: RequestField.Kind, into issues: inout [ValidationIssue]) -> JSONValue? {
        func fail(_ msg: String, _ type: String, at loc: [LocationPart]? = nil) -> JSONValue? {
            issues.append(ValidationIssue(loc: loc ?? self.loc, msg: msg, type: type))
            return nil
        }
        switch kind {
        case .url:
            guard case .string(let url) = value else { return fail("Input should be a valid string", "string_type") }
            if let problem = urlProblem(url, allowData: false) { return fail(problem.msg, problem.type) }
            return value
        case .string:
            guard case .string = value else { return fail("Input should be a valid string", "string_type") }
            return value
        case .boolean:
            guard case .bool = value else { return fail("Input should be a valid boolean", "bool_type") }
            return value
        case .optionalBoolean:
            switch value {
            case .bool, .null: return value
            default: return fail("Input should be a valid boolean or null", "bool_type")
            }
        case .choice(let options):
            guard case .string(let s) = value, options.contains(s) else {
                return fail("Input should be \(Self.listing(options.map { "'\($0)'" }))", "literal_error")
            }
            return value
        case .integerChoice(let options):
            guard let n = integer(value, into: &issues) else { return nil }
            guard options.contains(where: { Int64($0) == n }) else {
                return fail("Input should be \(Self.listing(options.map(String.init)))", "literal_error")
            }
            return .integer(n)
        case .integer(let min, let max):
            guard let n = integer(value, into: &issues) else { return nil }
            if n < Int64(min) { return fail("Input should be greater than or equal to \(min)", "greater_than_equal") }
            if n > Int64(max) { return fail("Input should be less than or equal to \(max)", "less_than_equal") }
            return .integer(n)
        case .frameCount(let min, let max):
            guard let n = integer(value, into: &issues) else { return nil }
            if n < Int64(min) { return fail("Input should be greater than or equal to \(min)", "greater_than_equal") }
            if n > Int64(max) { return fail("Input should be less than or equal to \(max)", "less_than_equal") }
            guard n % 8 == 1 else {
                let below = n - (n % 8) + 1 - (n % 8 == 0 ? 8 : 0)
                return fail("Value error, \(loc.last?.description ?? "frames") must be 8n+1 (9, 17, 25, ..., 121); \(n) is not, try \(below) or \(below + 8)", "value_error")
            }
            return .integer(n)
        case .number(let min, let max):
            let x: Double
            switch value {
            case .integer(let n): x = Double(n)
            case .number(let d): x = d
            default: return fail("Input should be a valid number", "float_type")
            }
            if x < min { return fail("Input should be greater than or equal to \(Self.format(min))", "greater_than_equal") }
            if x > max { return fail("Input should be less than or equal to \(Self.format(max))", "less_than_equal") }
            return .number(x)
        case .validationList:
            return validationList(value, into: &issues)
        }
    }

    /// An integer, accepting integral numbers such as `32.0`; bools and strings are not integers.
    private func integer(_ value: JSONValue, into issues: inout [ValidationIssue]) -> Int64? {
        switch value {
        case .integer(let n): return n
        case .number(let d) where d.rounded() == d && abs(d) < 9.0e18: return Int64(d)
        case .number(let d) where d.rounded() == d:
            // Too large for any range we have; report it as out of range, not as a bad type.
            issues.append(ValidationIssue(
                loc: loc, msg: d > 0 ? "Input should be less than or equal to the maximum" : "Input should be greater than or equal to the minimum",
                type: d > 0 ? "less_than_equal" : "greater_than_equal"))
            return nil
        case .number:
            issues.append(ValidationIssue(loc: loc, msg: "Input should be a valid integer, got a number with a fractional part", type: "int_from_float"))
            return nil
        default:
            issues.append(ValidationIssue(loc: loc, msg: "Input should be a valid integer", type: "int_type"))
            return nil
        }
    }

    private func urlProblem(_ url: String, allowData: Bool) -> (msg: String, type: String)? {
        if isIssuedFileURL(url) || RequestValidator.isHTTPURL(url) { return nil }
        if allowData && url.lowercased().hasPrefix("data:") && url.contains(",") { return nil }
        if url.isEmpty { return ("Input should be a valid URL, input is empty", "url_parsing") }
        if let scheme = URLComponents(string: url)?.scheme, !scheme.isEmpty {
            let scheme = scheme.lowercased()
            if scheme == "http" || scheme == "https" {
                return ("Input should be a valid URL, it has no host", "url_parsing")
            }
            return (allowData
                        ? "URL scheme should be 'http', 'https' or 'data' (or a file uploaded to this server), not '\(scheme)'"
                        : "URL scheme should be 'http' or 'https' (or a file uploaded to this server), not '\(scheme)'",
                    "url_scheme")
        }
        return ("Input should be a valid URL, relative URL without a base", "url_parsing")
    }

    private func validationList(_ value: JSONValue, into issues: inout [ValidationIssue]) -> JSONValue? {
        guard case .array(let items) = value else {
            issues.append(ValidationIssue(loc: loc, msg: "Input should be a valid list", type: "list_type"))
            return nil
        }
        let before = issues.count
        var resolved: [JSONValue] = []
        var hasImage: [Bool] = []
        for (index, item) in items.enumerated() {
            let itemLoc = loc + [.index(index)]
            guard case .object(let fields) = item else {
                issues.append(ValidationIssue(
                    loc: itemLoc, msg: "Input should be a valid dictionary or object with fields prompt and image_url", type: "model_type"))
                hasImage.append(false)
                continue
            }
            var out: [String: JSONValue] = [:]
            switch fields["prompt"] {
            case nil:
                issues.append(ValidationIssue(loc: itemLoc + ["prompt"], msg: "Field required", type: "missing"))
            case .string(let prompt)?:
                if prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                    issues.append(ValidationIssue(loc: itemLoc + ["prompt"], msg: "String should have at least 1 character", type: "string_too_short"))
                }
                out["prompt"] = .string(prompt)
            default:
                issues.append(ValidationIssue(loc: itemLoc + ["prompt"], msg: "Input should be a valid string", type: "string_type"))
            }
            switch fields["image_url"] {
            case nil, .null?:
                out["image_url"] = .null
                hasImage.append(false)
            case .string(let url)?:
                if let problem = urlProblem(url, allowData: true) {
                    issues.append(ValidationIssue(loc: itemLoc + ["image_url"], msg: problem.msg, type: problem.type))
                }
                out["image_url"] = .string(url)
                hasImage.append(true)
            default:
                issues.append(ValidationIssue(loc: itemLoc + ["image_url"], msg: "Input should be a valid string", type: "string_type"))
                hasImage.append(true)
            }
            for key in fields.keys.sorted() where key != "prompt" && key != "image_url" {
                issues.append(ValidationIssue(loc: itemLoc + [.key(key)], msg: "Extra inputs are not permitted", type: "extra_forbidden"))
            }
            resolved.append(.object(out))
        }
        if let first = hasImage.firstIndex(of: true), hasImage.contains(false) {
            for (index, has) in hasImage.enumerated() where !has {
                if case .object = items[index] {
                    issues.append(ValidationIssue(
                        loc: loc + [.index(index), "image_url"],
                        msg: "Value error, image_url is required on every validation item once one has it (item \(first) has one); give every item an image or none",
                        type: "value_error"))
                }
            }
        }
        return issues.count == before ? .array(resolved) : nil
    }

    static func listing(_ options: [String]) -> String {
        guard options.count > 1 else { return options.first ?? "" }
        return options.dropLast().joined(separator: ", ") + " or " + options.last!
    }

    static func format(_ x: Double) -> String {
        x.rounded() == x && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
    }
}

extension TrainingRequest {
    /// Shorthand for ``RequestValidator/resolve(json:isIssuedFileURL:)``.
    public static func resolve(
        json: Data,
        isIssuedFileURL: (String) -> Bool = { _ in false }
    ) -> Result<TrainingRequest, RequestValidationError> {
        RequestValidator.resolve(json: json, isIssuedFileURL: isIssuedFileURL)
    }
}
