import ArgumentParser
import Foundation
import KilnStore
import KilnWorker
import Logging
import ServiceLifecycle
import Synchronization

/// The worker settings shared by `kiln worker` and `kiln serve` (which runs a worker in-process).
struct WorkerOptions: ParsableArguments {
    @Option(help: "Model to train against: `tiny` (built-in test-size model) or the folder of an LTX-2.3 checkpoint (see `kiln models check`).")
    var model = "tiny"

    @Option(help: "Device for the engine: cpu, cuda or cuda:N (default: cuda when an NVIDIA GPU is present, else cpu).")
    var device: String?

    @Option(help: "Jobs run at once (one per GPU; with --device cuda, slot N uses cuda:N).")
    var slots = 1

    @Option(name: .customLong("keep-days"), help: "Remove the folders and files of jobs that ended more than this many days ago (default: keep everything).")
    var keepDays: Double?

    @Option(name: .customLong("lease-seconds"), help: "How long a claimed job survives without a heartbeat before another worker takes it over.")
    var leaseSeconds: Double = 60

    @Option(name: .customLong("checkpoint-interval"), help: "Training steps between checkpoints (the points a recovered job resumes from).")
    var checkpointInterval = 250

    @Option(name: .customLong("validation-steps"), help: "Denoising steps of validation renders (default: the engine's).")
    var validationSteps: Int?

    @Flag(name: .customLong("allow-private-urls"), help: "Let training_data_url, validation image_url and fal_webhook point at loopback/private addresses (trusted networks and tests).")
    var allowPrivateURLs = false

    func validate() throws {
        guard slots >= 1 else { throw ValidationError("--slots must be at least 1, got \(slots)") }
        guard leaseSeconds >= 5 else { throw ValidationError("--lease-seconds must be at least 5, got \(leaseSeconds)") }
        guard checkpointInterval >= 1 else { throw ValidationError("--checkpoint-interval must be at least 1, got \(checkpointInterval)") }
        if let keepDays, keepDays <= 0 { throw ValidationError("--keep-days must be positive, got \(keepDays)") }
        if let validationSteps, validationSteps < 1 { throw ValidationError("--validation-steps must be at least 1, got \(validationSteps)") }
        do {
            _ = try ModelChoice(argument: model)
            _ = try DeviceChoice.resolve(device)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The worker configuration for `dataDirectory`, with file URLs based on `baseURL()`.
    func configuration(dataDirectory: String, baseURL: @escaping @Sendable () -> String) throws -> WorkerConfiguration {
        let model: ModelChoice
        let device: String
        do {
            model = try ModelChoice(argument: self.model)
            device = try DeviceChoice.resolve(self.device)
        } catch {
            throw ValidationError("\(error)")
        }
        var configuration = WorkerConfiguration(
            dataDirectory: dataDirectory, slots: slots, model: model, device: device, publicBaseURL: baseURL,
            leaseSeconds: leaseSeconds, heartbeatInterval: .seconds(max(1, min(10, leaseSeconds / 4))),
            checkpointInterval: checkpointInterval, validationSteps: validationSteps, keepDays: keepDays)
        configuration.datasetLimits.allowPrivateURLs = allowPrivateURLs
        return configuration
    }

    /// A worker over the store in `dataDirectory`.
    func makeWorker(dataDirectory: String, baseURL: @escaping @Sendable () -> String, logger: Logger) throws -> KilnWorker {
        let store = try JobStore(dataDirectory: dataDirectory)
        return try KilnWorker(store: store, configuration: configuration(dataDirectory: dataDirectory, baseURL: baseURL), logger: logger)
    }
}

/// A URL learned after start-up (the port `kiln serve` bound), read by the worker when a job ends.
final class SharedBaseURL: Sendable {
    private let value: Mutex<String>

    init(_ initial: String) { value = Mutex(initial) }

    /// Replaces the URL.
    func set(_ url: String) { value.withLock { $0 = url } }

    /// The URL now.
    func get() -> String { value.withLock { $0 } }
}

/// `kiln worker`: runs jobs from a data directory's store, without serving the API.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run queued jobs from a data directory (no API); start more of these for more GPUs or machines.",
        discussion: """
        The worker claims queued jobs from the store under a lease it renews by heartbeat. If it dies, \
        another worker (or the next start) takes the job over once the lease expires and resumes it \
        from its last checkpoint. SIGINT/SIGTERM stop the engine gracefully (it saves a checkpoint).
        """
    )

    @Option(name: .customLong("data-dir"), help: "Data directory shared with `kiln serve` (default: $KILN_DATA_DIR, else ~/.kiln).")
    var dataDir: String?

    @Option(name: .customLong("store"), help: "Path of the job store file (default: <data-dir>/kiln.sqlite).")
    var storePath: String?

    @Option(name: .customLong("public-url"), help: "Base URL of the server that serves this data directory; output file URLs start with it.")
    var publicURL = "http://127.0.0.1:8188"

    @OptionGroup var worker: WorkerOptions

    @OptionGroup var log: LogLevelOption

    func validate() throws {
        guard publicURL.hasPrefix("http://") || publicURL.hasPrefix("https://") else {
            throw ValidationError("--public-url must start with http:// or https://; got \(publicURL)")
        }
    }

    func run() async throws {
        let logger = log.logger(label: "kiln.worker")
        let dataDirectory = dataDir.map(JobStore.expandingTilde) ?? JobStore.defaultDataDirectory()
        let store: JobStore
        do {
            store = try storePath.map { try JobStore(path: JobStore.expandingTilde($0)) } ?? JobStore(dataDirectory: dataDirectory)
        } catch {
            throw ValidationError("\(error)")
        }
        let base = publicURL
        let configuration = try worker.configuration(dataDirectory: dataDirectory, baseURL: { base })
        let service: KilnWorker
        do {
            service = try KilnWorker(store: store, configuration: configuration, logger: logger)
        } catch {
            throw ValidationError("\(error)")
        }
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        FileHandle.standardError.write(Data(
            "kiln worker \(configuration.workerID): model \(configuration.model), device \(configuration.device), \(configuration.slots) slot(s), data \(dataDirectory)\n".utf8))
        try await group.run()
    }
}
