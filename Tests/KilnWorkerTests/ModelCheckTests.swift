import Foundation
import KilnEngine
import Testing
@testable import KilnWorker

/// `kiln models check`'s file-level and engine checks, on the tiny model folder the engine writes in the
/// same layout as the real LTX-2.3 release.
@Suite("Model folder check")
struct ModelCheckTests {
    /// Writes the tiny model folder with the engine's own code and returns its path.
    func tinyModelFolder(in temp: TemporaryFolder) throws -> String {
        let python = try PythonLocator().locate()
        var environment = ProcessInfo.processInfo.environment
        if let engine = python.engineDirectory { environment["PYTHONPATH"] = engine }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python.path)
        process.arguments = ["-c", "import sys; from kiln_engine.models.tiny import ensure_tiny_model; print(ensure_tiny_model(sys.argv[1], 0))", temp.path]
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("a complete folder lists every part as present")
    func completeFolder() throws {
        let temp = try TemporaryFolder("kiln-models")
        let folder = try tinyModelFolder(in: temp)
        let check = ModelFolderCheck(folder: folder)
        #expect(check.isComplete, "\(check.items)")
        #expect(check.items.map(\.name).contains("transformer"))
        #expect(check.items.map(\.name).contains("vocoder"))
    }

    @Test("missing Gemma weights and a missing checkpoint are named")
    func missingParts() throws {
        let temp = try TemporaryFolder("kiln-models")
        let folder = try tinyModelFolder(in: temp)
        let gemmaWeights = try #require(ModelFolderCheck.find(prefix: "model", suffix: ".safetensors", under: (folder as NSString).appendingPathComponent("gemma")))
        try FileManager.default.removeItem(atPath: gemmaWeights)
        let withoutGemma = ModelFolderCheck(folder: folder)
        #expect(!withoutGemma.isComplete)
        #expect(withoutGemma.items.first { !$0.present }?.name == "Gemma weights")

        let empty = temp.url.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let nothing = ModelFolderCheck(folder: empty)
        #expect(nothing.items.filter { !$0.present }.map(\.name) == ["LTX-2.3 checkpoint", "Gemma text encoder"])
        #expect(ModelFolderCheck(folder: temp.url.appendingPathComponent("nope").path).items.first?.present == false)
    }

    @Test("the engine describes a complete folder and calls an empty one ModelNotFound")
    func engineDescription() async throws {
        let temp = try TemporaryFolder("kiln-models")
        let folder = try tinyModelFolder(in: temp)
        let runner = EngineRunner(python: try PythonLocator().locate())
        let described = try await runner.describeModel(folder: folder)
        #expect(described["ltx_file"]?.hasPrefix(folder) == true, "\(described)")
        #expect(described["layers"] != nil)

        let empty = temp.url.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        await #expect {
            try await runner.describeModel(folder: empty)
        } throws: { error in
            (error as? KilnEngineError)?.kind == .modelNotFound
        }
    }

    @Test("--model and --device values are checked")
    func modelAndDeviceArguments() throws {
        #expect(try ModelChoice(argument: "tiny") == .tiny(seed: 0))
        #expect(try ModelChoice(argument: "tiny:3") == .tiny(seed: 3))
        #expect(throws: ModelChoiceError.self) { try ModelChoice(argument: "/no/such/folder") }
        #expect(try DeviceChoice.resolve("cuda:1") == "cuda:1")
        #expect(throws: DeviceChoiceError.self) { try DeviceChoice.resolve("gpu") }
    }
}
