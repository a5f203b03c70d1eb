/// What went wrong running the Python engine.
public enum KilnEngineError: Error, CustomStringConvertible, Sendable, Equatable {
    /// No Python interpreter could be found or it is not executable.
    case pythonNotFound(searched: [String])
    /// The spec could not be written to the job folder.
    case specNotWritable(path: String, reason: String)
    /// The interpreter could not be started.
    case launchFailed(python: String, reason: String)
    /// The engine reported an `error` event and exited non-zero.
    case engineFailed(kind: EngineErrorKind, message: String, exitCode: Int32)
    /// The run was cancelled; the engine was asked to stop (SIGTERM) and, if it wrote one,
    /// `checkpoint` is the last checkpoint a later run can resume from.
    case cancelled(lastCheckpoint: String?)
    /// The engine was stopped from outside Kiln (SIGTERM from the system, exit code 75) after saving
    /// what it could; the job can be queued again and resume from `lastCheckpoint`.
    case interrupted(lastCheckpoint: String?)
    /// The engine was stopped by a signal nobody in Kiln sent (the OOM killer, an operator).
    case killed(signal: Int32, stderrTail: String)
    /// The engine exited non-zero without saying why on stdout.
    case crashed(exitCode: Int32, stderrTail: String)
    /// The engine exited 0 without its `done` event: its work is incomplete.
    case exitedWithoutDone(stderrTail: String)

    /// A message that says what went wrong and what to do.
    public var description: String {
        switch self {
        case .pythonNotFound(let searched):
            return "no Python interpreter for the engine was found (looked at: \(searched.joined(separator: ", "))). "
                + "Run `make setup` to create .venv, or set KILN_PYTHON to a python that has kiln_engine installed."
        case .specNotWritable(let path, let reason):
            return "could not write the engine spec to \(path): \(reason). Check that the job folder exists and is writable."
        case .launchFailed(let python, let reason):
            return "could not start the engine with \(python): \(reason). Check KILN_PYTHON or re-run `make setup`."
        case .engineFailed(let kind, let message, let exitCode):
            return "training engine failed (\(kind.rawValue), exit code \(exitCode)): \(message)"
        case .cancelled(let checkpoint):
            if let checkpoint {
                return "training was cancelled; the last checkpoint is \(checkpoint) and a resumed job continues from it."
            }
            return "training was cancelled before any checkpoint was written."
        case .interrupted(let checkpoint):
            return "training engine was interrupted by the system"
                + (checkpoint.map { "; it resumes from \($0) when the job runs again." } ?? " before any checkpoint was written.")
        case .killed(let signal, let tail):
            return "training engine was killed by signal \(signal)"
                + (signal == 9 ? " (often the out-of-memory killer: try a smaller resolution, fewer frames or a lower rank)" : "")
                + Self.tailSuffix(tail)
        case .crashed(let code, let tail):
            return "training engine exited with code \(code) without reporting an error" + Self.tailSuffix(tail)
        case .exitedWithoutDone(let tail):
            return "training engine exited with code 0 but never reported `done`, so its results are incomplete"
                + Self.tailSuffix(tail)
        }
    }

    /// The engine's error type as Kiln's API reports it, for errors the user can act on.
    public var kind: EngineErrorKind? {
        if case .engineFailed(let kind, _, _) = self { return kind }
        return nil
    }

    private static func tailSuffix(_ tail: String) -> String {
        tail.isEmpty ? "." : ". Last lines of its log:\n\(tail)"
    }
}
