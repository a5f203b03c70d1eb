import Foundation

/// An HTTP server written in Python (`http.server`) on 127.0.0.1, for tests that need a real
/// remote end. The script binds port 0 and prints the port as its first line; the process is
/// killed when this value is released.
final class LocalPythonServer: @unchecked Sendable {
    let process = Process()
    let port: Int

    init(script: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    // SIGKILL, not terminate(): the test runner's threads block SIGTERM and the child inherits that mask.
    deinit { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
}
