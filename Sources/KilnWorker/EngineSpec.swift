import Foundation
import KilnCore

/// The run spec handed to `python -m kiln_engine run spec.json` (engine/kiln_engine/spec.py).
struct EngineSpec: Encodable, Sendable {
    /// The spec's `model` object.
    struct Model: Encodable, Sendable, Equatable {
        var kind: String
        var seed: Int?
        var path: String?
    }

    var manifest: String
    var outputDir: String
    var cacheDir: String
    var model: Model
    var device: String
    var request: TrainingRequest
    var checkpointInterval: Int
    var resumeFrom: String?
    var progressInterval: Int
    var validationSteps: Int?
    var validationSize: [Int]?
    var skipValidation: Bool?

    enum CodingKeys: String, CodingKey {
        case manifest
        case outputDir = "output_dir"
        case cacheDir = "cache_dir"
        case model, device, request
        case checkpointInterval = "checkpoint_interval"
        case resumeFrom = "resume_from"
        case progressInterval = "progress_interval"
        case validationSteps = "validation_steps"
        case validationSize = "validation_size"
        case skipValidation = "skip_validation"
    }
}
