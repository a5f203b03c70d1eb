import Foundation
import Subprocess
import SystemPackage

/// Runs Debian's `ffmpeg`/`ffprobe` as subprocesses and turns failures into `DatasetError`.
struct MediaTool: Sendable {
    /// Executable name or absolute path of ffmpeg.
    var ffmpeg: String = "ffmpeg"
    /// Executable name or absolute path of ffprobe.
    var ffprobe: String = "ffprobe"

    /// Output of a finished tool run.
    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
        var succeeded: Bool { status == 0 }
    }

    /// Runs `tool` with `arguments`; throws only when it cannot be started.
    func run(_ tool: String, _ arguments: [String], file: String) async throws(DatasetError) -> Output {
        // Subprocess looks a bare name up in PATH and refuses one with a slash, so a path is run as given.
        let executable: Executable = tool.contains("/") ? .path(FilePath(tool)) : .name(tool)
        do {
            let result = try await Subprocess.run(
                executable,
                arguments: Arguments(arguments),
                output: .string(limit: 64 << 20),
                error: .string(limit: 8 << 20)
            )
            let status: Int32
            switch result.terminationStatus {
            case let .exited(code): status = Int32(code)
            case let .signaled(signal): status = 128 + Int32(signal)
            }
            return Output(status: status, stdout: result.standardOutput, stderr: result.standardError)
        } catch {
            throw .toolFailed(tool: tool, file: file, message: "could not run \(tool) (\(error)); install ffmpeg")
        }
    }

    /// Runs ffmpeg quietly; throws with the last lines of its log when it fails.
    func ffmpeg(_ arguments: [String], file: String) async throws(DatasetError) -> Output {
        let out = try await run(ffmpeg, ["-hide_banner", "-nostdin", "-loglevel", "error", "-y"] + arguments, file: file)
        guard out.succeeded else {
            throw .toolFailed(tool: "ffmpeg", file: file, message: Self.tail(out.stderr))
        }
        return out
    }

    /// The last meaningful lines of a tool log, for error messages.
    static func tail(_ log: String, lines: Int = 3) -> String {
        let kept = log.split(whereSeparator: \.isNewline).suffix(lines).joined(separator: " | ")
        return kept.isEmpty ? "no output" : kept
    }
}
