import ArgumentParser
import Dispatch
import Foundation
import KilnCore
import KilnStore
import KilnWorker
import Logging

/// `kiln train`: the whole job on this machine, without a server, with a live progress bar.
struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a LoRA from a zip (path or URL) on this machine, without a server.",
        discussion: """
        Runs the same job the API runs (fetch, prepare, encode, train, validate, export) and writes \
        the LoRA, its config, the validation video and (with --debug-dataset) the prepared dataset \
        into --out. On a terminal a progress bar shows stage, step, loss and ETA; otherwise plain lines. \
        Ctrl-C saves a checkpoint; running the same command with the same --out resumes from it.
        """
    )

    @Argument(help: "The training data: a local .zip or an http(s) URL of one.")
    var source: String

    @Option(help: "Output folder; also holds the job's state, so the same --out resumes an interrupted run.")
    var out: String

    @OptionGroup(title: "Request fields (fal-ai/ltx23-video-trainer)")
    var request: TrainRequestOptions

    @OptionGroup(title: "Model and worker")
    var worker: WorkerOptions

    @Flag(help: "Print plain progress lines even on a terminal.")
    var plain = false

    func run() async throws {
        let outFolder = URL(fileURLWithPath: (out as NSString).expandingTildeInPath).standardizedFileURL.path
        let dataDirectory = (outFolder as NSString).appendingPathComponent(".kiln")
        let store: JobStore
        do {
            store = try JobStore(dataDirectory: dataDirectory)
        } catch {
            throw ValidationError("--out \(out): \(error)")
        }
        let progress = TrainProgress(interactive: !plain && TrainProgress.standardErrorIsTerminal)
        let job = try resumableJob(store: store, progress: progress)
        if job.state == .succeeded {
            progress.line("this --out already holds a finished run")
            try summarize(job, store: store, dataDirectory: dataDirectory, outFolder: outFolder)
            return
        }

        var logger = Logger(label: "kiln.train")
        logger.logLevel = .warning
        var configuration = try worker.configuration(dataDirectory: dataDirectory, baseURL: { "file://" + dataDirectory })
        configuration.workerID = "kiln-train-\(ProcessInfo.processInfo.processIdentifier)"
        // Nobody else runs this store's jobs; a long lease keeps a slow step from looking like a crash.
        configuration.leaseSeconds = 24 * 3600
        configuration.heartbeatInterval = .seconds(30)
        let kiln: KilnWorker
        do {
            kiln = try KilnWorker(store: store, configuration: configuration, logger: logger)
        } catch {
            throw ValidationError("\(error)")
        }
        guard let claimed = try store.claimNext(workerID: configuration.workerID, leaseSeconds: configuration.leaseSeconds) else {
            throw ValidationError("the job in \(outFolder) could not be started (it is \(job.state.rawValue))")
        }

        let runTask = Task { await kiln.runClaimed(claimed, observer: { progress.handle($0) }) }
        let interrupt = InterruptWatcher { 
            progress.line("interrupted: stopping the engine and saving a checkpoint (Ctrl-C again to quit at once)")
            runTask.cancel()
        }
        let final = await runTask.value
        interrupt.stop()
        progress.finish()

        guard let final else { throw ExitCode.failure }
        switch final.state {
        case .succeeded:
            try summarize(final, store: store, dataDirectory: dataDirectory, outFolder: outFolder)
        case .failed, .cancelled:
            let message = final.failure?.message ?? "the job ended without a result"
            FileHandle.standardError.write(Data("kiln train: \(message)\n".utf8))
            throw ExitCode.failure
        case .queued, .running:
            let step = final.progress.map { " at \(final.stage?.rawValue ?? "") step \($0.step)/\($0.total)" } ?? ""
            FileHandle.standardError.write(Data(
                "kiln train: stopped\(step). Run the same command with --out \(out) to resume from the last checkpoint.\n".utf8))
            throw ExitCode(130)
        }
    }

    /// The job kept in `--out`: an interrupted one is put back in the queue to resume; otherwise
    /// a new job from the options.
    private func resumableJob(store: JobStore, progress: TrainProgress) throws -> Job {
        let requested = try resolvedRequest()
        if let previous = try store.listJobs(limit: 1).first {
            switch previous.state {
            case .succeeded where previous.request == requested:
                return previous
            case .running, .queued:
                guard previous.request == requested else {
                    throw ValidationError("--out \(out) holds an unfinished run with other settings; resume it with the same options or use another --out")
                }
                // The process that ran it is gone: its lease no longer means anything.
                try store.requeueExpired(now: .distantFuture, maxAttempts: Int.max)
                progress.line("resuming the interrupted run in \(out) (attempt \(previous.attempt + 1))")
                return try store.job(id: previous.id) ?? previous
            default:
                break
            }
        }
        return try store.submit(owner: Job.localOwner, request: requested)
    }

    /// The request from the options, checked exactly as the API checks it.
    private func resolvedRequest() throws -> TrainingRequest {
        let dataURL = TrainRequestOptions.urlOrFileURL(source)
        if dataURL.hasPrefix("file://") {
            let path = URL(string: dataURL)?.path ?? source
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("training data \(source): no such file (give a .zip path or an http(s) URL)")
            }
        }
        switch RequestValidator.resolve(value: try request.body(trainingDataURL: dataURL), isIssuedFileURL: { $0.hasPrefix("file://") }) {
        case .success(let resolved):
            return resolved
        case .failure(let error):
            let lines = error.issues.map { issue -> String in
                let field = issue.loc.dropFirst().map(\.description).joined(separator: ".")
                return "  --\(field.replacingOccurrences(of: "_", with: "-")): \(issue.msg)"
            }
            throw ValidationError("invalid request:\n" + lines.joined(separator: "\n"))
        }
    }

    /// Links the outputs into `--out` and prints where they are.
    private func summarize(_ job: Job, store: JobStore, dataDirectory: String, outFolder: String) throws {
        let files = try store.files(jobID: job.id)
        var rows: [(String, String, Int64)] = []
        for file in files {
            let source = (dataDirectory as NSString).appendingPathComponent(file.relativePath)
            let target = (outFolder as NSString).appendingPathComponent(file.fileName)
            try? FileManager.default.removeItem(atPath: target)
            if link(source, target) != 0 { try FileManager.default.copyItem(atPath: source, toPath: target) }
            rows.append((file.fileName, target, file.size))
        }
        var text = "Trained \(job.request.numberOfSteps) steps (rank \(job.request.rank))"
        if let seconds = job.inferenceTimeSeconds { text += String(format: " in %.1f s", seconds) }
        text += String(format: "; at fal's price this is %.4f USD.\n", job.priceEstimateUSD)
        for (name, path, size) in rows {
            text += "  \(name.padding(toLength: 26, withPad: " ", startingAt: 0)) \(String(size).leftPadded(to: 12)) bytes  \(path)\n"
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

/// Turns the first SIGINT into a graceful stop; a second one quits at once.
final class InterruptWatcher: @unchecked Sendable {
    private let source: any DispatchSourceSignal
    private var count = 0

    init(onFirst: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "kiln.train.sigint"))
        source.setEventHandler { [unowned self] in
            count += 1
            if count == 1 { onFirst() } else { exit(130) }
        }
        source.resume()
    }

    func stop() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
