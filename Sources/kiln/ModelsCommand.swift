import ArgumentParser
import Foundation
import KilnEngine
import KilnWorker

/// `kiln models`: inspect model folders.
struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Check model folders for use with --model PATH.",
        subcommands: [Check.self]
    )

    /// `kiln models check PATH`.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Say what a model folder holds and what is missing for training with it.",
            discussion: """
            A folder for --model PATH holds the LTX-2.3 checkpoint (one .safetensors file, e.g. \
            ltx-2.3-22b-dev.safetensors, with the transformer, video VAE, audio VAE, vocoder and text \
            projection) and the Gemma 3 12B text encoder folder (tokenizer.model and model*.safetensors). \
            The files are checked by name and header; then the engine reads the model's config. \
            Exits 1 when something is missing.
            """
        )

        @Argument(help: "The model folder.")
        var path: String

        @Flag(name: .customLong("no-engine"), help: "Skip the engine's check (only file names and headers).")
        var noEngine = false

        func run() async throws {
            let folder = URL(fileURLWithPath: (path as NSString).expandingTildeInPath).standardizedFileURL.path
            let check = ModelFolderCheck(folder: folder)
            var text = "Model folder \(folder)\n"
            for item in check.items {
                text += "  \(item.present ? "present" : "MISSING")  \(item.name.padding(toLength: 20, withPad: " ", startingAt: 0)) \(item.detail)\n"
            }
            print(text, terminator: "")
            guard check.isComplete else {
                print("Not usable yet: add what is MISSING, then run `kiln models check \(path)` again.")
                throw ExitCode.failure
            }
            if noEngine {
                print("Files look complete (engine check skipped).")
                return
            }
            let description = try engineDescription(folder)
            print("Engine check: the engine can load this folder.")
            for key in description.keys.sorted() {
                print("  \(key.padding(toLength: 28, withPad: " ", startingAt: 0)) \(description[key] ?? "")")
            }
            print("Use it with: kiln serve --model \(folder) --device cuda")
        }

        /// Runs `python -m kiln_engine model-info FOLDER` and returns its `model` event's fields.
        private func engineDescription(_ folder: String) throws -> [String: String] {
            let python: PythonInterpreter
            do {
                python = try PythonLocator().locate()
            } catch {
                throw ValidationError("\(error)")
            }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python.path)
            process.arguments = ["-m", "kiln_engine", "model-info", folder]
            var environment = ProcessInfo.processInfo.environment
            if let engine = python.engineDirectory {
                environment["PYTHONPATH"] = engine + (environment["PYTHONPATH"].map { ":" + $0 } ?? "")
            }
            process.environment = environment
            let out = Pipe(), err = Pipe()
            process.standardOutput = out
            process.standardError = err
            try process.run()
            let output = out.fileHandleForReading.readDataToEndOfFile()
            let errors = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            var described: [String: String] = [:]
            for line in String(decoding: output, as: UTF8.self).split(separator: "\n") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
                switch object["event"] as? String {
                case "model":
                    for (key, value) in object where key != "event" { described[key] = "\(value)" }
                case "error":
                    print("Engine check FAILED (\(object["type"] ?? "error")): \(object["message"] ?? "")")
                    throw ExitCode.failure
                default:
                    continue
                }
            }
            guard process.terminationStatus == 0, !described.isEmpty else {
                let tail = String(decoding: errors, as: UTF8.self).split(separator: "\n").suffix(5).joined(separator: "\n")
                print("Engine check FAILED (exit code \(process.terminationStatus)):\n\(tail)")
                throw ExitCode.failure
            }
            return described
        }
    }
}
