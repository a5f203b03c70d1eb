import Foundation
import KilnCore
import KilnDataset
import KilnEngine

/// Turns what went wrong in a stage into the failure a user reads in the fal result.
enum FailureMapping {
    /// A dataset problem is the user's to fix (400), except a failing tool or disk (500).
    static func failure(for error: DatasetError) -> JobFailure {
        switch error {
        case .toolFailed, .outputFailed:
            return JobFailure(statusCode: 500, type: "dataset_preparation_failed", message: "preparing the dataset failed: \(error)")
        case .fetchFailed, .httpStatus, .unresolvableHost, .unsupportedURL, .privateAddress, .tooManyRedirects:
            return JobFailure(statusCode: 400, type: "training_data_unreachable", message: error.description)
        default:
            return JobFailure(statusCode: 400, type: "bad_training_data", message: "bad training data: \(error)")
        }
    }

    /// An engine failure, with the setting to change where the user can help.
    static func failure(for error: KilnEngineError) -> JobFailure {
        switch error {
        case .engineFailed(let kind, let message, _):
            switch kind {
            case .outOfMemory:
                return JobFailure(
                    statusCode: 400, type: "out_of_memory",
                    message: "training ran out of memory: \(message). Lower `resolution` (e.g. low), `number_of_frames` "
                        + "(e.g. 49) or `rank`, or for validation `validation_resolution` / `validation_number_of_frames`.")
            case .badDataset:
                return JobFailure(statusCode: 400, type: "bad_training_data", message: "bad training data: \(message)")
            case .modelNotFound:
                return JobFailure(
                    statusCode: 500, type: "model_not_found",
                    message: "the server's model is missing or incomplete: \(message). The operator should run `kiln models check`.")
            case .badCheckpoint:
                return JobFailure(statusCode: 500, type: "bad_checkpoint", message: "could not resume training: \(message)")
            default:
                return JobFailure(statusCode: 500, type: "training_failed", message: "training failed (\(kind.rawValue)): \(message)")
            }
        case .killed(let signal, _) where signal == SIGKILL:
            return JobFailure(
                statusCode: 500, type: "engine_killed",
                message: "\(error)")
        case .cancelled:
            return .cancelledByUser
        default:
            return JobFailure(statusCode: 500, type: "training_failed", message: error.description)
        }
    }

    /// Any other error, named as it is.
    static func failure(for error: any Error) -> JobFailure {
        if let failure = error as? JobFailure { return failure }
        if let error = error as? DatasetError { return failure(for: error) }
        if let error = error as? KilnEngineError { return failure(for: error) }
        return JobFailure(statusCode: 500, type: "internal_error", message: "the job failed: \(error)")
    }
}
