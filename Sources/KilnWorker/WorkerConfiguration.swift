import Foundation
import KilnDataset

/// Everything a worker needs to run jobs: where data lives, which model and device, and the
/// timing of leases, heartbeats, checkpoints, retries and webhooks.
public struct WorkerConfiguration: Sendable {
    /// Folder holding the store, stored files and job folders (`jobs/<id>/`).
    public var dataDirectory: String
    /// This worker's name in leases (host + pid + a random suffix by default).
    public var workerID: String
    /// Jobs run at once (one per GPU).
    public var slots: Int
    /// The weights trained against.
    public var model: ModelChoice
    /// `cpu`, `cuda` or `cuda:N`.
    public var device: String
    /// Base of file URLs written into results (`http://host:port`), asked each time a job ends:
    /// `kiln serve` knows its port only after binding.
    public var publicBaseURL: @Sendable () -> String
    /// How long a claim lasts without a heartbeat.
    public var leaseSeconds: Double
    /// How often the lease is renewed (and a cancel request noticed).
    public var heartbeatInterval: Duration
    /// How often an idle slot looks for a queued job.
    public var pollInterval: Duration
    /// Claims of one job before it fails for good when its worker keeps disappearing.
    public var maxAttempts: Int
    /// Training steps between engine checkpoints (resume points).
    public var checkpointInterval: Int
    /// A progress log row every this many training steps (plus the first and the last).
    public var logEverySteps: Int
    /// Seconds the engine may take to stop after SIGTERM before SIGKILL.
    public var cancelGracePeriod: Duration
    /// Denoising steps of validation renders (`nil`: the engine's default).
    public var validationSteps: Int?
    /// Dataset safety caps (download size, zip-bomb limits, private URLs).
    public var datasetLimits: DatasetLimits
    /// Webhook retry schedule.
    public var webhook: WebhookPolicy
    /// Job folders and files of jobs that ended more than this many days ago are removed (`nil`: keep).
    public var keepDays: Double?
    /// Extra environment for the engine process.
    public var engineEnvironment: [String: String]

    /// Creates a configuration; the defaults suit one machine with one GPU.
    public init(
        dataDirectory: String,
        workerID: String = WorkerConfiguration.defaultWorkerID(),
        slots: Int = 1,
        model: ModelChoice = .tiny(seed: 0),
        device: String = DeviceChoice.defaultDevice(),
        publicBaseURL: @escaping @Sendable () -> String = { "http://127.0.0.1:8188" },
        leaseSeconds: Double = 60,
        heartbeatInterval: Duration = .seconds(10),
        pollInterval: Duration = .milliseconds(500),
        maxAttempts: Int = 3,
        checkpointInterval: Int = 250,
        logEverySteps: Int = 10,
        cancelGracePeriod: Duration = .seconds(20),
        validationSteps: Int? = nil,
        datasetLimits: DatasetLimits = DatasetLimits(),
        webhook: WebhookPolicy = WebhookPolicy(),
        keepDays: Double? = nil,
        engineEnvironment: [String: String] = [:]
    ) {
        self.dataDirectory = dataDirectory
        self.workerID = workerID
        self.slots = max(1, slots)
        self.model = model
        self.device = device
        self.publicBaseURL = publicBaseURL
        self.leaseSeconds = leaseSeconds
        self.heartbeatInterval = heartbeatInterval
        self.pollInterval = pollInterval
        self.maxAttempts = maxAttempts
        self.checkpointInterval = checkpointInterval
        self.logEverySteps = max(1, logEverySteps)
        self.cancelGracePeriod = cancelGracePeriod
        self.validationSteps = validationSteps
        self.datasetLimits = datasetLimits
        self.webhook = webhook
        self.keepDays = keepDays
        self.engineEnvironment = engineEnvironment
    }

    /// `<host>-<pid>-<random>`: unique per process, readable in the store.
    public static func defaultWorkerID() -> String {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "worker"
        let suffix = UUID().uuidString.prefix(6).lowercased()
        return "\(host)-\(ProcessInfo.processInfo.processIdentifier)-\(suffix)"
    }

    /// `<data>/jobs`.
    public var jobsDirectory: String { (dataDirectory as NSString).appendingPathComponent("jobs") }
    /// `<data>/cache`: encoded latents and the tiny model, shared by jobs.
    public var cacheDirectory: String { (dataDirectory as NSString).appendingPathComponent("cache") }
}

/// How webhook deliveries are retried.
public struct WebhookPolicy: Sendable {
    /// Delay before the first retry; doubled after each failure.
    public var initialBackoff: Duration
    /// Longest delay between two attempts.
    public var maxBackoff: Duration
    /// Attempts stop once this much time has passed since the first.
    public var giveUpAfter: Duration
    /// Time limit of one attempt.
    public var requestTimeout: Duration

    /// Creates a policy; the defaults retry for an hour.
    public init(
        initialBackoff: Duration = .seconds(2), maxBackoff: Duration = .seconds(300),
        giveUpAfter: Duration = .seconds(3600), requestTimeout: Duration = .seconds(15)
    ) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.giveUpAfter = giveUpAfter
        self.requestTimeout = requestTimeout
    }
}
