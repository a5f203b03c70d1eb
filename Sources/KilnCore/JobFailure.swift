/// Why a job ended without a result. fal answers such a job's result request with
/// `statusCode` and the body `{"detail": message}`.
public struct JobFailure: Codable, Sendable, Equatable, Error, CustomStringConvertible {
    /// HTTP status of the result request (400 for the user's fault or a cancel, 500 for ours).
    public var statusCode: Int
    /// A machine-readable kind, e.g. `cancelled`, `bad_training_data`, `worker_lost`.
    public var type: String
    /// What went wrong and what to do, for a human.
    public var message: String

    /// Creates a failure.
    public init(statusCode: Int, type: String, message: String) {
        self.statusCode = statusCode
        self.type = type
        self.message = message
    }

    enum CodingKeys: String, CodingKey {
        case statusCode = "status_code"
        case type, message
    }

    /// The failure recorded when the user cancels a job.
    public static let cancelledByUser = JobFailure(statusCode: 400, type: "cancelled", message: "cancelled by the user")

    /// `type (status): message`.
    public var description: String { "\(type) (\(statusCode)): \(message)" }
}
