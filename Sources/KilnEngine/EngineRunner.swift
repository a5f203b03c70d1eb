import Foundation
import Subprocess
import Synchronization

#if canImport(System)
import System
#else
import SystemPackage
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `python -m kiln_engine run <spec.json>` and turns its standard output into ``EngineEvent`` values.
///
/// The engine runs in its own process group, so cancelling reaches every process it started
/// (data loaders, `torchrun` workers): cancelling the calling task sends SIGTERM to the group, the
/// engine finishes its step and saves a checkpoint, and after ``gracePeriod`` SIGKILL follows.
public struct EngineRunner: Sendable {
    /// The interpreter that runs the engine.
    public var python: PythonInterpreter
    /// How long the engine may take to save and exit after SIGTERM before it is killed.
    public var gracePeriod: Duration
    /// Extra environment variables for the engine (`CUDA_VISIBLE_DEVICES`, ...).
    public var environment: [String: String]
    /// How many lines of the engine's stderr are kept for error messages.
    public var stderrTailLines: Int

    /// Creates a runner for the given interpreter.
    public init(
        python: PythonInterpreter, gracePeriod: Duration = .seconds(60), environment: [String: String] = [:],
        stderrTailLines: Int = 40
    ) {
        self.python = python
        self.gracePeriod = gracePeriod
        self.environment = environment
        self.stderrTailLines = stderrTailLines
    }

    /// Creates a runner with the interpreter ``PythonLocator`` finds for this process.
    public static func locatingPython(gracePeriod: Duration = .seconds(60)) throws(KilnEngineError) -> EngineRunner {
        EngineRunner(python: try PythonLocator().locate(), gracePeriod: gracePeriod)
    }

    /// Writes `spec` as `spec.json` into `directory` (created if needed) and runs the engine on it.
    ///
    /// - Returns: what the engine produced; throws ``KilnEngineError`` on any failure or on cancellation.
    public func run(
        spec: some Encodable & Sendable,
        in directory: String,
        onEvent: @escaping @Sendable (EngineEvent) async -> Void = { _ in },
        onStderrLine: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws(KilnEngineError) -> EngineOutcome {
        let path = try Self.writeSpec(spec, in: directory)
        return try await run(specFile: path, workingDirectory: directory, onEvent: onEvent, onStderrLine: onStderrLine)
    }

    /// Writes `spec` as `spec.json` into `directory` (created if needed) and returns its path.
    public static func writeSpec(_ spec: some Encodable, in directory: String) throws(KilnEngineError) -> String {
        let path = (directory as NSString).appendingPathComponent("spec.json")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            // Atomic: written to a temporary file and renamed, so nobody ever reads half a spec.
            try encoder.encode(spec).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .specNotWritable(path: path, reason: "\(error)")
        }
        return path
    }

    /// Runs the engine on an existing spec file.
    ///
    /// `onEvent` sees every event in order, including the final `done` or `error`.
    /// `onStderrLine` sees the engine's stderr (library logs, tracebacks), line by line.
    public func run(
        specFile: String,
        workingDirectory: String? = nil,
        onEvent: @escaping @Sendable (EngineEvent) async -> Void = { _ in },
        onStderrLine: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws(KilnEngineError) -> EngineOutcome {
        try await run(engineArguments: ["run", specFile], workingDirectory: workingDirectory, onEvent: onEvent,
                      onStderrLine: onStderrLine)
    }

    /// Runs `python -m kiln_engine <engineArguments>` and reads its events (see ``run(specFile:workingDirectory:onEvent:onStderrLine:)``).
    func run(
        engineArguments: [String],
        workingDirectory: String? = nil,
        onEvent: @escaping @Sendable (EngineEvent) async -> Void = { _ in },
        onStderrLine: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws(KilnEngineError) -> EngineOutcome {
        let state = RunState(tailLines: stderrTailLines)
        let python = self.python
        var overrides: [Environment.Key: String?] = ["PYTHONUNBUFFERED": "1"]
        if let engine = python.engineDirectory {
            let existing = ProcessInfo.processInfo.environment["PYTHONPATH"].map { ":" + $0 } ?? ""
            overrides["PYTHONPATH"] = engine + existing
        }
        for (key, value) in environment { overrides[Environment.Key(stringLiteral: key)] = value }
        var options = PlatformOptions()
        // Group id 0: the engine leads a new process group, so one signal reaches all its children.
        options.processGroupID = 0
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: gracePeriod)]
        let environmentValue = Environment.inherit.updating(overrides)
        let directory = workingDirectory.map { FilePath($0) }

        // The process runs in an unstructured task so that cancelling the caller does not cut the
        // pipes: after SIGTERM the engine still reports its last checkpoint, and we want to read it.
        let child = Task { () async throws -> TerminationStatus in
            let result = try await Subprocess.run(
                .path(FilePath(python.path)),
                arguments: Arguments(["-m", "kiln_engine"] + engineArguments),
                environment: environmentValue,
                workingDirectory: directory,
                platformOptions: options,
                input: .none,
                output: .sequence,
                error: .sequence
            ) { execution in
                state.started(pid: execution.processIdentifier.value)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await line in execution.standardError.strings() {
                            state.appendStderr(line)
                            onStderrLine(line)
                        }
                    }
                    for try await line in execution.standardOutput.strings() {
                        if line.allSatisfy(\.isWhitespace) { continue }
                        do throws(EngineEventParseError) {
                            let event = try EngineEvent(jsonLine: line)
                            state.record(event)
                            await onEvent(event)
                        } catch {
                            // A stray print must not kill a long training run; it is surfaced as a warning.
                            state.appendStderr("[stdout] \(line)")
                            await onEvent(.log(level: "warning", message: error.description))
                        }
                    }
                    try await group.waitForAll()
                }
            }
            state.exited()
            return result.terminationStatus
        }
        let grace = gracePeriod
        let status: TerminationStatus
        do {
            status = try await withTaskCancellationHandler {
                try await child.value
            } onCancel: {
                state.requestStop(grace: grace)
            }
        } catch {
            state.exited()
            throw .launchFailed(python: python.path, reason: "\(error)")
        }
        return try state.outcome(for: status)
    }

    /// Runs the engine and delivers its events as a stream that ends after `done`, or throws the
    /// run's ``KilnEngineError``. Cancelling the consuming task cancels the run.
    public func events(specFile: String, workingDirectory: String? = nil) -> AsyncThrowingStream<EngineEvent, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    _ = try await self.run(specFile: specFile, workingDirectory: workingDirectory) { event in
                        continuation.yield(event)
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// What a finished engine run produced.
public struct EngineOutcome: Sendable, Equatable {
    /// The files the engine announced, in order.
    public var artifacts: [EngineArtifact]
    /// The last checkpoint written, if any.
    public var lastCheckpoint: String?
    /// The last progress event seen.
    public var lastProgress: EngineProgress?

    /// The first artifact of a kind, if the engine produced one.
    public func artifact(_ kind: EngineArtifact.Kind) -> EngineArtifact? {
        artifacts.first { $0.kind == kind }
    }
}

/// Shared, lock-protected state of one run: the child's pid, what it said, and whether we asked it to stop.
final class RunState: Sendable {
    private struct Fields {
        var pid: pid_t?
        var hasExited = false
        var stopRequested = false
        var sawDone = false
        var error: (kind: EngineErrorKind, message: String)?
        var stderrTail: [String] = []
        var outcome = EngineOutcome(artifacts: [], lastCheckpoint: nil, lastProgress: nil)
    }

    /// The engine's exit code after SIGTERM/SIGINT (`kiln_engine.errors.Interrupted`, EX_TEMPFAIL).
    static let interruptedExitCode: Int32 = 75

    private let fields = Mutex(Fields())
    private let tailLines: Int

    init(tailLines: Int) { self.tailLines = tailLines }

    func started(pid: pid_t) {
        let stopAlreadyRequested = fields.withLock { state in
            state.pid = pid
            return state.stopRequested
        }
        if stopAlreadyRequested { signalGroup(SIGTERM) }
    }

    func exited() { fields.withLock { $0.hasExited = true } }

    func appendStderr(_ line: String) {
        fields.withLock { state in
            state.stderrTail.append(line)
            if state.stderrTail.count > tailLines { state.stderrTail.removeFirst(state.stderrTail.count - tailLines) }
        }
    }

    func record(_ event: EngineEvent) {
        fields.withLock { state in
            switch event {
            case .done: state.sawDone = true
            case .error(let kind, let message): state.error = (kind, message)
            case .checkpoint(_, let path): state.outcome.lastCheckpoint = path
            case .artifact(let artifact): state.outcome.artifacts.append(artifact)
            case .progress(let progress): state.outcome.lastProgress = progress
            default: break
            }
        }
    }

    /// SIGTERM to the group now, SIGKILL after `grace` if it is still running.
    func requestStop(grace: Duration) {
        let hasPID = fields.withLock { state in
            state.stopRequested = true
            return state.pid != nil
        }
        guard hasPID else { return }  // `started` sends it once the pid is known
        signalGroup(SIGTERM)
        Task.detached { [self] in
            try? await Task.sleep(for: grace)
            signalGroup(SIGKILL)
        }
    }

    private func signalGroup(_ signal: Int32) {
        fields.withLock { state in
            // Never signal after the child was reaped: its pid (and group id) may belong to someone else by now.
            guard let pid = state.pid, !state.hasExited else { return }
            _ = kill(-pid, signal)
        }
    }

    func outcome(for status: TerminationStatus) throws(KilnEngineError) -> EngineOutcome {
        let state = fields.withLock { $0 }
        let tail = state.stderrTail.joined(separator: "\n")
        switch status {
        case .exited(let code) where code == 0:
            if state.sawDone { return state.outcome }
            if state.stopRequested { throw .cancelled(lastCheckpoint: state.outcome.lastCheckpoint) }
            throw .exitedWithoutDone(stderrTail: tail)
        case .exited(let code):
            if state.stopRequested { throw .cancelled(lastCheckpoint: state.outcome.lastCheckpoint) }
            if code == Self.interruptedExitCode || state.error?.kind == .interrupted {
                throw .interrupted(lastCheckpoint: state.outcome.lastCheckpoint)
            }
            if let error = state.error { throw .engineFailed(kind: error.kind, message: error.message, exitCode: code) }
            throw .crashed(exitCode: code, stderrTail: tail)
        case .signaled(let signal):
            if state.stopRequested { throw .cancelled(lastCheckpoint: state.outcome.lastCheckpoint) }
            throw .killed(signal: signal, stderrTail: tail)
        }
    }
}
