import Foundation
import KilnCore
import KilnEngine
import KilnStore
import Logging
import ServiceLifecycle

/// Claims queued jobs and runs them, one per slot, under a lease renewed by heartbeat.
///
/// Runs as a ServiceLifecycle service: inside `kiln serve` next to the HTTP server, or alone as
/// `kiln worker`. A graceful shutdown stops running engines with SIGTERM (they save a checkpoint)
/// and leaves their jobs to be requeued once the lease runs out, so nothing is lost.
public final class KilnWorker: Service, Sendable {
    /// The job store.
    public let store: JobStore
    /// Worker settings.
    public let configuration: WorkerConfiguration
    /// Operator log.
    public let logger: Logger
    let engine: EngineRunner
    let webhooks: WebhookDispatcher

    /// Creates a worker over an open store.
    ///
    /// - Parameter engine: how to start the engine; `nil` finds the venv's Python.
    public init(
        store: JobStore, configuration: WorkerConfiguration, engine: EngineRunner? = nil,
        logger: Logger = Logger(label: "kiln.worker")
    ) throws {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        var runner = try engine ?? EngineRunner.locatingPython()
        runner.gracePeriod = configuration.cancelGracePeriod
        runner.environment.merge(configuration.engineEnvironment) { _, new in new }
        self.engine = runner
        self.webhooks = WebhookDispatcher(store: store, policy: configuration.webhook,
                                          allowPrivateURLs: configuration.datasetLimits.allowPrivateURLs, logger: logger)
    }

    /// Runs the slots and the maintenance loop until cancelled or gracefully shut down.
    public func run() async throws {
        logger.info("worker started", metadata: [
            "worker": "\(configuration.workerID)", "slots": "\(configuration.slots)",
            "model": "\(configuration.model)", "device": "\(configuration.device)",
        ])
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.maintenanceLoop() }
                group.addTask { await self.webhooks.run(pollInterval: self.configuration.pollInterval) }
                for slot in 0..<self.configuration.slots {
                    group.addTask { await self.slotLoop(slot) }
                }
                await group.waitForAll()
            }
        }
        logger.info("worker stopped", metadata: ["worker": "\(configuration.workerID)"])
    }

    /// The lease owner name of a slot.
    func workerID(slot: Int) -> String {
        configuration.slots == 1 ? configuration.workerID : "\(configuration.workerID)/\(slot)"
    }

    /// The device of a slot: with several slots on `cuda`, slot N gets `cuda:N`.
    func device(slot: Int) -> String {
        configuration.slots > 1 && configuration.device == "cuda" ? "cuda:\(slot)" : configuration.device
    }

    private func slotLoop(_ slot: Int) async {
        let id = workerID(slot: slot)
        while !Task.isCancelled {
            do {
                if let job = try store.claimNext(workerID: id, leaseSeconds: configuration.leaseSeconds) {
                    logger.info("claimed job", metadata: ["job": "\(job.id)", "attempt": "\(job.attempt)", "worker": "\(id)"])
                    _ = await runClaimed(job, workerID: id, device: device(slot: slot))
                    continue
                }
            } catch {
                logger.error("could not claim a job", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.pollInterval)
        }
    }

    private func maintenanceLoop() async {
        var lastSweep: ContinuousClock.Instant?
        while !Task.isCancelled {
            do {
                let requeued = try store.requeueExpired(maxAttempts: configuration.maxAttempts)
                for id in requeued { logger.warning("requeued a job whose worker stopped responding", metadata: ["job": "\(id)"]) }
            } catch {
                logger.error("lease recovery failed", metadata: ["error": "\(error)"])
            }
            if let keepDays = configuration.keepDays, lastSweep.map({ .now - $0 > .seconds(3600) }) ?? true {
                lastSweep = .now
                do {
                    let removed = try Retention(store: store, dataDirectory: configuration.dataDirectory,
                                                jobsDirectory: configuration.jobsDirectory).sweep(keepDays: keepDays)
                    if removed > 0 { logger.info("retention removed old jobs", metadata: ["jobs": "\(removed)"]) }
                } catch {
                    logger.error("retention sweep failed", metadata: ["error": "\(error)"])
                }
            }
            try? await Task.sleep(for: .seconds(max(1, min(configuration.leaseSeconds / 4, 5))))
        }
    }

    /// Runs a job this worker has claimed until it ends, is cancelled, or the lease is lost.
    /// Returns the job as the store has it afterwards.
    @discardableResult
    public func runClaimed(
        _ job: Job, workerID: String? = nil, device: String? = nil,
        observer: @escaping @Sendable (JobActivity) -> Void = { _ in }
    ) async -> Job? {
        let id = workerID ?? self.workerID(slot: 0)
        var settings = configuration
        settings.device = device ?? configuration.device
        let runner = JobRunner(store: store, configuration: settings, engine: engine, logger: logger)
        let stop = StopSignal()
        let work = Task { try await runner.run(job, workerID: id, observer: observer) }
        let heartbeat = Task { [store, configuration, logger] in
            while !Task.isCancelled {
                try? await Task.sleep(for: configuration.heartbeatInterval)
                if Task.isCancelled { break }
                do {
                    switch try store.heartbeat(id: job.id, workerID: id, leaseSeconds: configuration.leaseSeconds) {
                    case .renewed: continue
                    case .cancelRequested:
                        if stop.set(.cancelRequested) { work.cancel() }
                        return
                    case .lost:
                        if stop.set(.leaseLost) { work.cancel() }
                        return
                    }
                } catch {
                    logger.warning("heartbeat failed; retrying", metadata: ["job": "\(job.id)", "error": "\(error)"])
                }
            }
        }
        let result = await withTaskCancellationHandler {
            await work.result
        } onCancel: {
            if stop.set(.shutdown) { work.cancel() }
        }
        heartbeat.cancel()
        return finish(job, workerID: id, result: result, stop: stop.value, folder: runner.folder(for: job))
    }

    private func finish(
        _ job: Job, workerID: String, result: Result<JobRunner.Output, any Error>, stop: StopReason?, folder: JobFolder
    ) -> Job? {
        let log = { (message: String, level: String) in
            _ = try? self.store.appendLog(jobID: job.id, level: level, source: "worker", message: message)
        }
        do {
            if stop == .cancelRequested {
                removePartialFiles(job, folder: folder)
                try store.markCancelled(id: job.id, workerID: workerID)
                log("job cancelled by the user; its engine was stopped and its files removed", "info")
            } else if case .success(let output) = result {
                try store.complete(id: job.id, workerID: workerID, result: output.result, inferenceTime: output.inferenceTime)
                log(String(format: "job succeeded in %.1f s; price %.4f USD (%d steps × %.4f USD)", output.inferenceTime,
                           job.priceEstimateUSD, job.request.numberOfSteps, Pricing.usdPerStep), "info")
            } else if case .failure(let error) = result {
                switch stop {
                case .leaseLost:
                    logger.warning("lost the lease of a job; another worker resumes it", metadata: ["job": "\(job.id)"])
                    return try store.job(id: job.id)
                case .shutdown:
                    // Back in the queue at once (the next worker resumes it without waiting for the
                    // lease), and without using up one of the job's attempts.
                    if try !store.release(id: job.id, workerID: workerID) {
                        // Cancel requested meanwhile, or the lease already gone: a zero lease lets
                        // the usual recovery settle it.
                        _ = try? store.heartbeat(id: job.id, workerID: workerID, leaseSeconds: 0)
                        log("worker \(workerID) is shutting down (\(error))", "warning")
                    }
                    return try store.job(id: job.id)
                case .cancelRequested, nil:
                    let failure = FailureMapping.failure(for: error)
                    log("job failed: \(failure.message)", "error")
                    let started = job.startedAt ?? Date()
                    try store.fail(id: job.id, workerID: workerID, failure: failure, inferenceTime: Date().timeIntervalSince(started))
                }
            }
        } catch {
            logger.error("could not record the end of a job", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
        // A job that ended owes its webhook through the store's outbox (any worker sends it).
        return try? store.job(id: job.id)
    }

    /// Removes a cancelled job's folder and artifact records.
    private func removePartialFiles(_ job: Job, folder: JobFolder) {
        for file in (try? store.files(jobID: job.id)) ?? [] { _ = try? store.deleteFile(id: file.id) }
        folder.remove()
    }
}
