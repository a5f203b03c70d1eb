import Foundation
import Synchronization

extension EngineRunner {
    /// Runs `python -m kiln_engine model-info FOLDER`, which reads the model's config (no weights),
    /// and returns the fields of its `model` event as text. A folder the engine cannot use throws
    /// ``KilnEngineError/engineFailed(kind:message:exitCode:)`` with kind `modelNotFound`.
    public func describeModel(folder: String) async throws(KilnEngineError) -> [String: String] {
        let described = ModelDescription()
        _ = try await run(engineArguments: ["model-info", folder]) { event in
            guard case .unknown("model", let json) = event,
                  let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return }
            described.add(object)
        }
        return described.fields
    }
}

/// The `model` event's fields, gathered from the event callback.
private final class ModelDescription: Sendable {
    private let values = Mutex<[String: String]>([:])

    func add(_ object: [String: Any]) {
        values.withLock { fields in
            for (key, value) in object where key != "event" { fields[key] = "\(value)" }
        }
    }

    var fields: [String: String] { values.withLock { $0 } }
}
