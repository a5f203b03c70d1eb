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
            let description = try await engineDescription(folder)
            print("Engine check: the engine can load this folder.")
            for key in description.keys.sorted() {
                print("  \(key.padding(toLength: 28, withPad: " ", startingAt: 0)) \(description[key] ?? "")")
            }
            print("Use it with: kiln serve --model \(folder) --device cuda")
        }

        /// The engine's description of the folder (`python -m kiln_engine model-info FOLDER`).
        private func engineDescription(_ folder: String) async throws -> [String: String] {
            var runner: EngineRunner
            do {
                runner = try EngineRunner.locatingPython()
            } catch {
                throw ValidationError("\(error)")
            }
            runner.stderrTailLines = 5
            let described: [String: String]
            do throws(KilnEngineError) {
                described = try await runner.describeModel(folder: folder)
            } catch .engineFailed(let kind, let message, _) {
                print("Engine check FAILED (\(kind)): \(message)")
                throw ExitCode.failure
            } catch {
                print("Engine check FAILED: \(error)")
                throw ExitCode.failure
            }
            guard !described.isEmpty else {
                print("Engine check FAILED: the engine did not describe the model")
                throw ExitCode.failure
            }
            return described
        }
    }
}
