import Foundation
import KilnCore
import KilnWorker
import Synchronization

/// Draws `kiln train`'s progress: a live one-line bar on a terminal, plain log lines otherwise.
final class TrainProgress: Sendable {
    private struct State {
        var stage: JobStage?
        var progress: JobProgress?
        var barShown = false
        var lastDraw: ContinuousClock.Instant?
    }

    private let interactive: Bool
    private let state = Mutex(State())
    private let started = ContinuousClock.now

    /// `interactive` draws the bar (standard error is a terminal).
    init(interactive: Bool) {
        self.interactive = interactive
    }

    /// Whether standard error is a terminal.
    static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Handles one activity of the job.
    func handle(_ activity: JobActivity) {
        switch activity {
        case .stage(let stage):
            state.withLock { $0.stage = stage; $0.progress = nil }
            // Plain output gets the worker's own `stage: …` log line instead.
            if interactive { draw(force: true) }
        case .progress(let stage, let progress):
            state.withLock { $0.stage = stage; $0.progress = progress }
            if interactive { draw(force: progress.step >= progress.total) }
        case .log(let level, let source, let message):
            // On a terminal the bar shows steps; other lines scroll above it.
            if interactive && source == "engine" && message.hasPrefix("step ") { return }
            if interactive && source == "worker" && message.hasPrefix("stage: ") { return }
            let prefix = level == "info" ? "" : "\(level): "
            line("\(prefix)\(message)")
        }
    }

    /// Ends the bar line so the summary starts on a fresh line.
    func finish() {
        let shown = state.withLock { state -> Bool in
            defer { state.barShown = false }
            return state.barShown
        }
        if shown { write("\n") }
    }

    /// Prints a line above the bar (or plainly).
    func line(_ text: String) {
        let elapsed = ContinuousClock.now - started
        let stamp = String(format: "[%6.1fs] ", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        if interactive {
            state.withLock { $0.barShown = false }
            write("\r\u{1B}[2K" + stamp + text + "\n")
            draw(force: true)
        } else {
            write(stamp + text + "\n")
        }
    }

    private func draw(force: Bool) {
        let now = ContinuousClock.now
        let snapshot = state.withLock { state -> State? in
            if !force, let last = state.lastDraw, now - last < .milliseconds(100) { return nil }
            state.lastDraw = now
            state.barShown = true
            return state
        }
        guard let snapshot, let stage = snapshot.stage else { return }
        write("\r\u{1B}[2K" + Self.bar(stage: stage, progress: snapshot.progress))
    }

    /// `training   [██████░░░░░░░░░░░░░░]  30/100  loss 0.1234  ETA 12s`.
    static func bar(stage: JobStage, progress: JobProgress?, width: Int = 24) -> String {
        let name = stage.rawValue.padding(toLength: 17, withPad: " ", startingAt: 0)
        guard let progress, progress.total > 0 else { return "\(name) …" }
        let fraction = min(1, max(0, Double(progress.step) / Double(progress.total)))
        let filled = Int((fraction * Double(width)).rounded(.down))
        var text = "\(name) [" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "] "
        text += "\(progress.step)/\(progress.total)"
        if let loss = progress.loss { text += String(format: "  loss %.4f", loss) }
        if let eta = progress.etaSeconds { text += "  ETA \(JobProgress.duration(eta))" }
        return text
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
