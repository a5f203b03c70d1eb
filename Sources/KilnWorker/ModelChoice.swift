import Foundation

/// Which weights the engine trains against: Kiln's built-in test-size model or a folder holding
/// the real LTX-2.3 checkpoint (`--model tiny|PATH`).
public enum ModelChoice: Sendable, Equatable, CustomStringConvertible {
    /// The built-in test-size model, generated from a seed (no download; CPU friendly).
    case tiny(seed: Int)
    /// A folder with the LTX-2.3 `.safetensors` file and the Gemma text-encoder folder.
    case checkpoint(path: String)

    /// Parses a `--model` value: `tiny` (or `tiny:SEED`) or a path to a model folder.
    public init(argument: String) throws(ModelChoiceError) {
        let trimmed = argument.trimmingCharacters(in: .whitespaces)
        if trimmed == "tiny" {
            self = .tiny(seed: 0)
            return
        }
        if trimmed.hasPrefix("tiny:") {
            guard let seed = Int(trimmed.dropFirst(5)), seed >= 0 else {
                throw ModelChoiceError(argument: argument, reason: "the seed after `tiny:` must be a non-negative integer")
            }
            self = .tiny(seed: seed)
            return
        }
        guard !trimmed.isEmpty else {
            throw ModelChoiceError(argument: argument, reason: "give `tiny` or the path of a model folder")
        }
        let absolute = URL(fileURLWithPath: (trimmed as NSString).expandingTildeInPath).standardizedFileURL.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ModelChoiceError(
                argument: argument,
                reason: "\(absolute) is not a folder; give `tiny` or a folder holding the LTX-2.3 checkpoint (check it with `kiln models check PATH`)")
        }
        self = .checkpoint(path: absolute)
    }

    /// `tiny` or the folder path.
    public var description: String {
        switch self {
        case .tiny(let seed): seed == 0 ? "tiny" : "tiny:\(seed)"
        case .checkpoint(let path): path
        }
    }

    /// The spec's `model` object.
    var specValue: EngineSpec.Model {
        switch self {
        case .tiny(let seed): EngineSpec.Model(kind: "tiny", seed: seed, path: nil)
        case .checkpoint(let path): EngineSpec.Model(kind: "checkpoint", seed: nil, path: path)
        }
    }
}

/// A `--model` value that is neither `tiny` nor an existing folder.
public struct ModelChoiceError: Error, CustomStringConvertible, Sendable {
    /// The value given.
    public var argument: String
    /// What is wrong and what to give instead.
    public var reason: String

    /// `--model <value>: <reason>`.
    public var description: String { "--model \(argument): \(reason)" }
}

/// The accelerator the engine runs on (`--device cpu|cuda|cuda:N`).
public enum DeviceChoice {
    /// Checks a `--device` value; `nil` picks `cuda` when an NVIDIA GPU is visible, else `cpu`.
    public static func resolve(_ argument: String?) throws(DeviceChoiceError) -> String {
        guard let argument, !argument.isEmpty else { return defaultDevice() }
        if argument == "cpu" || argument == "cuda" { return argument }
        if argument.hasPrefix("cuda:"), let index = Int(argument.dropFirst(5)), index >= 0 { return argument }
        throw DeviceChoiceError(argument: argument)
    }

    /// `cuda` when the machine shows an NVIDIA device node, else `cpu`.
    public static func defaultDevice() -> String {
        FileManager.default.fileExists(atPath: "/dev/nvidia0") || FileManager.default.fileExists(atPath: "/dev/nvidiactl")
            ? "cuda" : "cpu"
    }
}

/// A `--device` value that is not `cpu`, `cuda` or `cuda:N`.
public struct DeviceChoiceError: Error, CustomStringConvertible, Sendable {
    /// The value given.
    public var argument: String

    /// What to give instead.
    public var description: String { "--device \(argument): give cpu, cuda or cuda:N (e.g. cuda:1)" }
}
