import Foundation

/// A real `kiln worker` child process (the binary built next to the tests).
final class SpawnedWorker: @unchecked Sendable {
    let process = Process()
    let logPath: String

    /// `.build/debug/kiln` of this package.
    static var binary: URL {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/kiln")
    }

    /// Starts `kiln worker` over `dataDirectory` with test-size settings.
    init(dataDirectory: String, name: String, extraArguments: [String] = []) throws {
        logPath = dataDirectory + ".\(name).log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = Self.binary
        process.arguments = [
            "worker", "--data-dir", dataDirectory, "--model", "tiny", "--device", "cpu", "--lease-seconds", "8",
            "--checkpoint-interval", "2", "--validation-steps", "2", "--allow-private-urls",
            "--public-url", "http://127.0.0.1:9", "--log-level", "info",
        ] + extraArguments
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    /// SIGKILL: the worker gets no chance to release its job or stop its engine.
    func kill9() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait (a graceful stop).
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// The worker's own log.
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
