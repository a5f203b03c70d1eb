import Foundation
@testable import KilnCore

/// Resolves a body written as a Swift dictionary (serialised with JSONSerialization).
func resolve(_ body: [String: Any], issued: Set<String> = []) -> Result<TrainingRequest, RequestValidationError> {
    let data = try! JSONSerialization.data(withJSONObject: body)
    return RequestValidator.resolve(json: data, isIssuedFileURL: { issued.contains($0) })
}

/// Resolves a body given as JSON text.
func resolve(text: String, issued: Set<String> = []) -> Result<TrainingRequest, RequestValidationError> {
    RequestValidator.resolve(json: Data(text.utf8), isIssuedFileURL: { issued.contains($0) })
}

/// A minimal valid body plus `extra`.
func body(_ extra: [String: Any] = [:]) -> [String: Any] {
    var body: [String: Any] = ["training_data_url": "https://example.com/data.zip"]
    body.merge(extra) { _, new in new }
    return body
}

/// The issues of a failed resolution (empty when it succeeded).
func issues(_ result: Result<TrainingRequest, RequestValidationError>) -> [ValidationIssue] {
    if case .failure(let error) = result { return error.issues }
    return []
}

/// The resolved request of a successful resolution.
func request(_ result: Result<TrainingRequest, RequestValidationError>) -> TrainingRequest? {
    if case .success(let request) = result { return request }
    return nil
}
