import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL

/// A real `kiln serve` child process (the binary built next to the tests).
final class SpawnedServer: @unchecked Sendable {
    let process = Process()
    let url: String
    private let output = Pipe()
    private let errors: FileHandle

    /// `.build/<config>/kiln`, next to the test bundle.
    static var binary: URL {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/kiln")
    }

    /// Starts `kiln serve --port 0 …` and waits for its `Kiln listening on URL` line.
    init(dataDirectory: String, extraArguments: [String] = []) throws {
        process.executableURL = Self.binary
        process.arguments = ["serve", "--port", "0", "--data-dir", dataDirectory, "--no-worker", "--log-level", "warning"] + extraArguments
        process.standardOutput = output
        let logPath = dataDirectory + ".serve.log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        errors = FileHandle(forWritingAtPath: logPath)!
        process.standardError = errors
        try process.run()
        var line = Data()
        let reader = output.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = reader.availableData
            if chunk.isEmpty {
                let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                throw TestFailure("kiln serve exited before listening: \(log)")
            }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("Kiln listening on "), !text.contains("\n") else {
            throw TestFailure("unexpected first line: \(text)")
        }
        url = String(text.dropFirst("Kiln listening on ".count))
    }

    /// SIGKILL: no chance to flush or clean up.
    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait.
    /// Runs a `kiln` client command against this server (`--server` added); `environment`
    /// entries are set, or removed when nil, on top of this process's environment.
    func runClient(_ arguments: [String], environment changes: [String: String?] = [:]) throws -> (status: Int32, out: String, err: String) {
        let client = Process()
        client.executableURL = SpawnedServer.binary
        client.arguments = arguments + ["--server", url]
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in changes { environment[name] = value }
        client.environment = environment
        let out = Pipe(), err = Pipe()
        client.standardOutput = out
        client.standardError = err
        try client.run()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        client.waitUntilExit()
        return (client.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
