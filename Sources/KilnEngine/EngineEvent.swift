import Foundation

/// One event the Python engine writes on its standard output, one JSON object a line
/// (ARCHITECTURE.md §7).
public enum EngineEvent: Sendable, Equatable {
    /// The engine entered a phase (`loading`, `encoding`, `training`, `validating`, `exporting`, ...).
    case phase(name: String)
    /// Progress inside a phase, usually once per training step.
    case progress(EngineProgress)
    /// A human-readable log line from the engine.
    case log(level: String, message: String)
    /// A training checkpoint was written atomically.
    case checkpoint(step: Int, path: String)
    /// A result file was written (`lora`, `config`, `video`, ...).
    case artifact(EngineArtifact)
    /// The engine failed; `kind` says why in a form the worker can map, `message` is for the user.
    case error(kind: EngineErrorKind, message: String)
    /// The engine finished its work; exit code 0 follows.
    case done
    /// An event this version of Kiln does not know; kept so that a newer engine does not break an older worker.
    case unknown(name: String, json: String)

    /// The event's name as it appears in the `event` field.
    public var name: String {
        switch self {
        case .phase: "phase"
        case .progress: "progress"
        case .log: "log"
        case .checkpoint: "checkpoint"
        case .artifact: "artifact"
        case .error: "error"
        case .done: "done"
        case .unknown(let name, _): name
        }
    }
}

/// The fields of a `progress` event.
public struct EngineProgress: Sendable, Equatable {
    /// The phase this progress belongs to (usually `training`).
    public var phase: String
    /// Steps done so far (1-based once the first step finished).
    public var step: Int
    /// Steps the phase will take in all.
    public var total: Int
    /// Training loss of the last step, when the phase has one.
    public var loss: Double?
    /// Learning rate used by the last step.
    public var learningRate: Double?
    /// Wall seconds per step (smoothed by the engine).
    public var secondsPerStep: Double?
    /// Seconds the engine expects the phase still needs.
    public var etaSeconds: Double?

    /// Creates a progress value.
    public init(
        phase: String, step: Int, total: Int, loss: Double? = nil, learningRate: Double? = nil,
        secondsPerStep: Double? = nil, etaSeconds: Double? = nil
    ) {
        self.phase = phase
        self.step = step
        self.total = total
        self.loss = loss
        self.learningRate = learningRate
        self.secondsPerStep = secondsPerStep
        self.etaSeconds = etaSeconds
    }

    /// Fraction of the phase done, 0...1.
    public var fraction: Double {
        total > 0 ? min(1, max(0, Double(step) / Double(total))) : 0
    }
}

/// A file the engine produced.
public struct EngineArtifact: Sendable, Equatable {
    /// What the file is.
    public var kind: Kind
    /// Absolute (or spec-relative) path of the file.
    public var path: String

    /// Creates an artifact value.
    public init(kind: Kind, path: String) {
        self.kind = kind
        self.path = path
    }

    /// The kinds of file the engine announces.
    public enum Kind: Sendable, Equatable, CustomStringConvertible {
        /// The LoRA weights (`.safetensors`).
        case lora
        /// The inference config JSON.
        case config
        /// The validation video (`.mp4`).
        case video
        /// A kind this version does not know.
        case other(String)

        /// Maps the wire name to a kind.
        public init(rawValue: String) {
            switch rawValue {
            case "lora": self = .lora
            case "config": self = .config
            case "video": self = .video
            default: self = .other(rawValue)
            }
        }

        /// The wire name.
        public var rawValue: String {
            switch self {
            case .lora: "lora"
            case .config: "config"
            case .video: "video"
            case .other(let value): value
            }
        }

        /// The wire name.
        public var description: String { rawValue }
    }
}

/// The `type` of an engine `error` event.
public enum EngineErrorKind: Sendable, Equatable, CustomStringConvertible {
    /// The accelerator (or host) ran out of memory.
    case outOfMemory
    /// The dataset manifest or one of its files is unusable.
    case badDataset
    /// The model folder or file is missing or incomplete.
    case modelNotFound
    /// The spec itself is invalid (a bad field).
    case badSpec
    /// A checkpoint to resume from is missing or corrupt.
    case badCheckpoint
    /// The engine was stopped by SIGTERM/SIGINT and saved what it could (exit code 75).
    case interrupted
    /// A bug or an unsupported environment inside the engine.
    case internalError
    /// Anything else the engine reports with a type Kiln does not know.
    case other(String)

    /// Maps the wire name (`OutOfMemory`, `BadDataset`, ...) to a kind.
    public init(rawValue: String) {
        switch rawValue {
        case "OutOfMemory": self = .outOfMemory
        case "BadDataset": self = .badDataset
        case "ModelNotFound": self = .modelNotFound
        case "BadSpec": self = .badSpec
        case "BadCheckpoint": self = .badCheckpoint
        case "Interrupted": self = .interrupted
        case "InternalError": self = .internalError
        default: self = .other(rawValue)
        }
    }

    /// The wire name.
    public var rawValue: String {
        switch self {
        case .outOfMemory: "OutOfMemory"
        case .badDataset: "BadDataset"
        case .modelNotFound: "ModelNotFound"
        case .badSpec: "BadSpec"
        case .badCheckpoint: "BadCheckpoint"
        case .interrupted: "Interrupted"
        case .internalError: "InternalError"
        case .other(let value): value
        }
    }

    /// The wire name.
    public var description: String { rawValue }
}
