import ArgumentParser
import Foundation
import KilnServer
import KilnStore
import KilnWorker
import Logging
import ServiceLifecycle

/// `kiln serve`: the fal-compatible queue API (and, in a later issue, the in-process worker).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the fal-compatible queue API over a data directory, with an in-process worker unless --no-worker.",
        discussion: """
        Prints exactly one line, `Kiln listening on URL`, once the port is bound, then logs \
        one structured line per request to standard error. With no API keys the server runs \
        in open local mode and only accepts loopback callers.
        """
    )

    @Option(help: "Address to bind. Anything but loopback needs an API key (kiln keys create) or --allow-open.")
    var host = "127.0.0.1"

    @Option(help: "Port to bind; 0 picks a free port (the listening line shows the real one).")
    var port = 8188

    @Option(name: .customLong("data-dir"), help: "Folder holding the job store (kiln.sqlite) and stored files (default: $KILN_DATA_DIR, else ~/.kiln).")
    var dataDir: String?

    @Flag(name: .customLong("no-worker"), help: "Serve the API only; run no in-process worker (jobs wait for a `kiln worker`).")
    var noWorker = false

    @Option(name: .customLong("public-url"), help: "Base of the absolute URLs in answers (default: the listening address).")
    var publicURL: String?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain; serves HTTPS when given with --tls-key.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key for --tls-cert.")
    var tlsKey: String?

    @Option(name: .customLong("max-upload-size"), help: "Largest accepted upload in bytes, or with a K/M/G/T suffix (default 20G).")
    var maxUploadSize = "20G"

    @Flag(name: .customLong("allow-open"), help: "Allow open local mode (no API keys) on a non-loopback address. Anyone who can reach it can use it.")
    var allowOpen = false

    @OptionGroup var log: LogLevelOption

    @OptionGroup(title: "In-process worker (ignored with --no-worker)")
    var worker: WorkerOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535, got \(port)") }
        guard Self.parseSize(maxUploadSize) != nil else {
            throw ValidationError("--max-upload-size must be a positive byte count such as 1048576, 512M or 20G; got \(maxUploadSize)")
        }
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key must be given together") }
        if let publicURL, !(publicURL.hasPrefix("http://") || publicURL.hasPrefix("https://")) {
            throw ValidationError("--public-url must start with http:// or https://; got \(publicURL)")
        }
    }

    /// Parses `1048576`, `512K`, `20G`… into bytes.
    static func parseSize(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(trimmed)
        var factor: Int64 = 1
        if digits.hasSuffix("B"), digits.count > 1, units[digits[digits.index(before: digits.index(before: digits.endIndex))]] != nil {
            digits = digits.dropLast()
        }
        if let last = digits.last, let unit = units[last] {
            factor = unit
            digits = digits.dropLast()
        }
        guard let value = Int64(digits), value > 0 else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: factor)
        return overflow ? nil : product
    }

    func run() async throws {
        let logger = log.logger(label: "kiln.serve")
        let dataDirectory = dataDir.map(JobStore.expandingTilde) ?? JobStore.defaultDataDirectory()
        let configuration = ServerConfiguration(
            host: host,
            port: port,
            dataDirectory: dataDirectory,
            publicURL: publicURL,
            tlsCertificatePath: tlsCert,
            tlsKeyPath: tlsKey,
            maxUploadSize: Self.parseSize(maxUploadSize) ?? ServerConfiguration.defaultMaxUploadSize,
            allowOpen: allowOpen
        )
        // The in-process worker runs in the server's ServiceGroup and shares its shutdown. Its
        // output file URLs start with the server's URL, known only once the port is bound.
        let baseURL = SharedBaseURL(publicURL ?? configuration.listeningURL(boundPort: port))
        var services: [any Service] = []
        if !noWorker {
            do {
                services.append(try worker.makeWorker(
                    dataDirectory: dataDirectory, baseURL: { baseURL.get() }, logger: log.logger(label: "kiln.worker")))
            } catch let error as ValidationError {
                throw error
            } catch {
                throw ValidationError("cannot start the in-process worker: \(error) (or pass --no-worker and run `kiln worker` separately)")
            }
        }
        let explicitPublicURL = publicURL != nil
        do {
            try await KilnServe.run(configuration: configuration, services: services, logger: logger) { url in
                if !explicitPublicURL { baseURL.set(url) }
                // Written straight to the file descriptor: whoever spawned us reads this line at once.
                FileHandle.standardOutput.write(Data("Kiln listening on \(url)\n".utf8))
            }
        } catch let error as ServeError {
            throw ValidationError(error.description)
        }
    }
}
