import Foundation

/// A line on the engine's standard output that is not a valid event.
public struct EngineEventParseError: Error, CustomStringConvertible, Equatable {
    /// The offending line, shortened to 300 characters.
    public var line: String
    /// What is wrong with it.
    public var reason: String

    /// A message that names the line and the problem.
    public var description: String {
        "engine wrote a line that is not a valid JSON event (\(reason)): \(line). "
            + "The engine must print only JSON events on stdout; library logs belong on stderr."
    }
}

extension EngineEvent {
    /// The JSON shape shared by all events; every field but `event` is optional on the wire.
    private struct Wire: Decodable {
        var event: String
        var name: String?
        var phase: String?
        var step: Double?
        var total: Double?
        var loss: Double?
        var lr: Double?
        var seconds_per_step: Double?
        var eta_seconds: Double?
        var level: String?
        var message: String?
        var path: String?
        var kind: String?
        var type: String?
    }

    /// Parses one line of engine output.
    ///
    /// Python's `json.dumps` writes `NaN`/`Infinity` for non-finite floats (a diverged loss),
    /// which is not JSON; those values are read as absent rather than failing the run.
    public init(jsonLine rawLine: String) throws(EngineEventParseError) {
        let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
        let short = String(line.prefix(300))
        guard line.hasPrefix("{") else {
            throw EngineEventParseError(line: short, reason: "not a JSON object")
        }
        let wire: Wire
        do {
            wire = try JSONDecoder().decode(Wire.self, from: Data(Self.replacingNonFiniteNumbers(line).utf8))
        } catch DecodingError.keyNotFound {
            throw EngineEventParseError(line: short, reason: "no \"event\" field")
        } catch {
            throw EngineEventParseError(line: short, reason: "malformed JSON")
        }
        func require<T>(_ value: T?, _ field: String) throws(EngineEventParseError) -> T {
            guard let value else {
                throw EngineEventParseError(line: short, reason: "\(wire.event) event without \"\(field)\"")
            }
            return value
        }
        switch wire.event {
        case "phase":
            self = .phase(name: try require(wire.name, "name"))
        case "progress":
            self = .progress(
                EngineProgress(
                    phase: wire.phase ?? "training",
                    step: Int(try require(wire.step, "step")),
                    total: Int(try require(wire.total, "total")),
                    loss: wire.loss,
                    learningRate: wire.lr,
                    secondsPerStep: wire.seconds_per_step,
                    etaSeconds: wire.eta_seconds))
        case "log":
            self = .log(level: wire.level ?? "info", message: try require(wire.message, "message"))
        case "checkpoint":
            self = .checkpoint(step: Int(try require(wire.step, "step")), path: try require(wire.path, "path"))
        case "artifact":
            self = .artifact(
                EngineArtifact(kind: .init(rawValue: try require(wire.kind, "kind")), path: try require(wire.path, "path")))
        case "error":
            self = .error(
                kind: EngineErrorKind(rawValue: wire.type ?? "EngineError"),
                message: wire.message ?? "the engine reported an error without a message")
        case "done":
            self = .done
        default:
            self = .unknown(name: wire.event, json: line)
        }
    }

    /// Turns the bare tokens `NaN`, `Infinity` and `-Infinity` that follow a colon into `null`.
    static func replacingNonFiniteNumbers(_ line: String) -> String {
        guard line.contains("NaN") || line.contains("Infinity") else { return line }
        var out = line
        for token in ["-Infinity", "Infinity", "NaN"] {
            out = out.replacingOccurrences(of: ": \(token)", with: ": null")
            out = out.replacingOccurrences(of: ":\(token)", with: ":null")
        }
        return out
    }
}
