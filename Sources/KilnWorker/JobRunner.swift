import Foundation
import Synchronization
import KilnCore
import KilnDataset
import KilnEngine
import KilnStore
import Logging

/// Runs one claimed job through its stages: fetching -> preparing_dataset -> encoding ->
/// training -> validating -> exporting, and returns the output JSON.
///
/// A second attempt of the same job (after a crash or a restart) reuses what the first left in
/// the job folder: a complete dataset is not prepared again and training resumes from the last
/// checkpoint the engine reported.
public struct JobRunner: Sendable {
    /// The store the job lives in.
    public var store: JobStore
    /// Worker settings (model, device, intervals).
    public var configuration: WorkerConfiguration
    /// Starts the Python engine.
    public var engine: EngineRunner
    /// Operator log.
    public var logger: Logger

    /// Creates a runner.
    public init(store: JobStore, configuration: WorkerConfiguration, engine: EngineRunner, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.engine = engine
        self.logger = logger
    }

    /// What a successful run produced.
    public struct Output: Sendable {
        /// `{lora_file, config_file, video, debug_dataset}` as fal File objects.
        public var result: Data
        /// Seconds since the job first started.
        public var inferenceTime: Double
    }

    /// The folder of `job`.
    public func folder(for job: Job) -> JobFolder {
        JobFolder(jobsDirectory: configuration.jobsDirectory, id: job.id)
    }

    /// Runs `job`, which `workerID` holds. Throws a `JobFailure`, `DatasetError`,
    /// `KilnEngineError`, `JobStoreError` or `CancellationError` when it does not finish.
    public func run(
        _ job: Job, workerID: String, observer: @escaping @Sendable (JobActivity) -> Void = { _ in }
    ) async throws -> Output {
        let folder = folder(for: job)
        try folder.create()
        let reporter = JobReporter(
            store: store, jobID: job.id, workerID: workerID, logger: logger,
            logEverySteps: configuration.logEverySteps, observer: observer)
        reporter.log(
            "attempt \(job.attempt) on \(workerID): model \(configuration.model), device \(configuration.device), "
                + "\(job.request.numberOfSteps) steps, rank \(job.request.rank), estimated price \(job.priceEstimateUSD) USD",
            source: "worker")

        // 1-2. Dataset.
        let report = try await prepareDataset(job, folder: folder, reporter: reporter)
        try Task.checkCancellation()

        // Validation images must be local files for the engine.
        var request = job.request
        request.validation = try await localValidationImages(job, folder: folder, reporter: reporter)

        // 3-6. Engine: encoding, training, validating, exporting.
        let outcome = try await runEngine(job, request: request, folder: folder, reporter: reporter)

        // Results as files the owner can download.
        try reporter.enter(.exporting)
        let result = try registerResults(
            job, folder: folder, outcome: outcome, debugZip: report?.debugZip ?? existingDebugZip(folder), reporter: reporter)
        let started = job.startedAt ?? Date()
        return Output(result: result, inferenceTime: max(0, Date().timeIntervalSince(started)))
    }

    // MARK: - Dataset

    private func prepareDataset(_ job: Job, folder: JobFolder, reporter: JobReporter) async throws -> DatasetReport? {
        if folder.hasPreparedDataset {
            reporter.log("reusing the dataset prepared by an earlier attempt", source: "worker")
            return readReport(folder)
        }
        try reporter.enter(.fetching)
        // A stored upload is already a local file here, so the preparer needs no resolver of its own.
        let source = try datasetSource(for: job)
        let preparer = DatasetPreparer(
            options: DatasetOptions(request: job.request), limits: configuration.datasetLimits, logger: logger)
        let progressLog = ProgressLogGate()
        let report = try await preparer.prepare(source: source, into: URL(fileURLWithPath: folder.root)) { progress in
            switch progress {
            case .downloading:
                if progressLog.due(progress.message, every: .seconds(5)) {
                    reporter.log(progress.message, source: "dataset")
                }
            case .probing(let done, let total), .conforming(let done, let total):
                try? reporter.enter(.preparingDataset)
                try? reporter.progress(JobProgress(step: done, total: total))
                if done == total || progressLog.due(progress.message, every: .seconds(5)) {
                    reporter.log(progress.message, source: "dataset")
                }
            case .finished:
                break  // summarised below with the report's details
            default:
                try? reporter.enter(.preparingDataset)
                reporter.log(progress.message, source: "dataset")
            }
        }
        try reporter.enter(.preparingDataset)
        for source in report.sources {
            for reason in source.dropped { reporter.log("\(source.path): dropped: \(reason)", level: "warning", source: "dataset") }
            for warning in source.warnings { reporter.log("\(source.path): \(warning)", level: "warning", source: "dataset") }
        }
        reporter.log(
            "dataset ready: \(report.totals.samples) samples from \(report.totals.sources) sources, "
                + "\(report.width)x\(report.height), \(report.mediaKind), audio \(report.withAudio ? "on" : "off")",
            source: "dataset")
        return report
    }

    private func readReport(_ folder: JobFolder) -> DatasetReport? {
        let path = (folder.dataset as NSString).appendingPathComponent("report.json")
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(DatasetReport.self, from: data)
    }

    private func existingDebugZip(_ folder: JobFolder) -> String? {
        let path = folder.path(DatasetPreparer.debugZipName)
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// The request's `training_data_url` as a source: a stored upload or local file is read in place.
    func datasetSource(for job: Job) throws -> DatasetSource {
        let text = job.request.trainingDataURL
        guard let url = URL(string: text) else {
            throw JobFailure(statusCode: 422, type: "bad_training_data", message: "training_data_url \(text) is not a URL")
        }
        if url.isFileURL { return .localFile(url) }
        if let path = Self.issuedFilePath(url, owner: job.owner, store: store, dataDirectory: configuration.dataDirectory) {
            return .localFile(URL(fileURLWithPath: path))
        }
        return .url(url)
    }

    /// The local path of `…/files/<id>/<name>` when that file is stored here and `owner` owns it.
    static func issuedFilePath(_ url: URL, owner: String, store: JobStore, dataDirectory: String) -> String? {
        let parts = url.path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count >= 3, parts[parts.count - 3] == "files" else { return nil }
        guard let file = try? store.file(id: String(parts[parts.count - 2]), owner: owner) else { return nil }
        return (dataDirectory as NSString).appendingPathComponent(file.relativePath)
    }

    // MARK: - Validation images

    private func localValidationImages(_ job: Job, folder: JobFolder, reporter: JobReporter) async throws -> [ValidationPrompt] {
        var prompts = job.request.validation
        for index in prompts.indices {
            guard let text = prompts[index].imageURL else { continue }
            prompts[index].imageURL = try await ValidationImageFetcher(
                store: store, owner: job.owner, dataDirectory: configuration.dataDirectory,
                limits: configuration.datasetLimits, logger: logger
            ).localPath(for: text, index: index, into: folder.inputs)
        }
        return prompts
    }

    // MARK: - Engine

    private func runEngine(_ job: Job, request: TrainingRequest, folder: JobFolder, reporter: JobReporter) async throws -> EngineOutcome {
        let state = folder.readState()
        var resume: String?
        let checkpoints = (folder.engineOutput as NSString).appendingPathComponent("checkpoints")
        if let checkpoint = state.lastCheckpoint, FileManager.default.fileExists(atPath: checkpoint) {
            resume = checkpoint
            reporter.log("resuming training from the checkpoint of step \(state.checkpointStep ?? 0)", source: "worker")
        } else if let saved = try? FileManager.default.contentsOfDirectory(atPath: checkpoints),
                  saved.contains(where: { $0.hasPrefix("step_") }) {
            // The engine picks the latest complete `step_*` folder inside.
            resume = checkpoints
            reporter.log("resuming training from the latest checkpoint in \(checkpoints)", source: "worker")
        }
        let spec = EngineSpec(
            manifest: folder.manifest, outputDir: folder.engineOutput, cacheDir: configuration.cacheDirectory,
            model: configuration.model.specValue, device: configuration.device, request: request,
            checkpointInterval: configuration.checkpointInterval, resumeFrom: resume, progressInterval: 1,
            validationSteps: configuration.validationSteps, validationSize: nil, skipValidation: nil)
        try? reporter.enter(.encoding)
        do {
            let specFile = try writeSpec(spec, folder: folder)
            let stale = StaleEngineReaper.reap(specPath: specFile)
            if !stale.isEmpty {
                reporter.log("stopped \(stale.count) engine process(es) left running by an earlier attempt", level: "warning", source: "worker")
            }
            return try await engine.run(
                specFile: specFile, workingDirectory: folder.engine,
                onEvent: { event in handle(event, folder: folder, reporter: reporter) },
                onStderrLine: { [logger] line in logger.debug("engine: \(line)", metadata: ["job": "\(job.id)"]) })
        } catch {
            if let engineError = error as? KilnEngineError, case .engineFailed(let kind, let message, _) = engineError {
                reporter.log("engine error (\(kind.rawValue)): \(message)", level: "error", source: "engine")
            }
            throw error
        }
    }

    /// Writes `engine/spec.json` the way ``EngineRunner`` does; a failure is the server's, not the request's.
    private func writeSpec(_ spec: EngineSpec, folder: JobFolder) throws -> String {
        do {
            return try EngineRunner.writeSpec(spec, in: folder.engine)
        } catch {
            throw JobFailure(statusCode: 500, type: "internal_error", message: error.description)
        }
    }

    private func handle(_ event: EngineEvent, folder: JobFolder, reporter: JobReporter) {
        switch event {
        case .phase(let name):
            if let stage = Self.stage(forPhase: name) { try? reporter.enter(stage) }
        case .progress(let progress):
            if let stage = Self.stage(forPhase: progress.phase) { try? reporter.enter(stage) }
            let value = JobProgress(step: progress.step, total: progress.total, loss: progress.loss, etaSeconds: progress.etaSeconds)
            try? reporter.progress(value)
            if progress.phase == "training", reporter.shouldLogStep(progress.step, total: progress.total) {
                reporter.log(value.logLine(secondsPerStep: progress.secondsPerStep), source: "engine")
            }
        case .log(let level, let message):
            reporter.log(message, level: level, source: "engine")
        case .checkpoint(let step, let path):
            let absolute = path.hasPrefix("/") ? path : (folder.engine as NSString).appendingPathComponent(path)
            do {
                try folder.writeState(JobFolder.State(lastCheckpoint: absolute, checkpointStep: step))
            } catch {
                reporter.log("could not record checkpoint \(absolute): \(error)", level: "warning", source: "worker")
            }
            reporter.log("checkpoint saved at step \(step)", source: "engine")
        case .artifact(let artifact):
            reporter.log("wrote \(artifact.kind) \((artifact.path as NSString).lastPathComponent)", source: "engine")
        case .error(let kind, let message):
            logger.warning("engine error event", metadata: ["type": "\(kind)", "message": "\(message)"])
        case .done, .unknown:
            break
        }
    }

    /// The job stage an engine phase belongs to (`loading` counts as encoding).
    static func stage(forPhase phase: String) -> JobStage? {
        switch phase {
        case "loading", "encoding": .encoding
        case "training": .training
        case "validating", "validation": .validating
        case "exporting", "export": .exporting
        default: nil
        }
    }
}

/// Lets a repeated progress message through at most once per interval.
final class ProgressLogGate: Sendable {
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    func due(_ message: String, every interval: Duration) -> Bool {
        let now = ContinuousClock.now
        return last.withLock { previous in
            if let previous, now - previous < interval { return false }
            previous = now
            return true
        }
    }
}
