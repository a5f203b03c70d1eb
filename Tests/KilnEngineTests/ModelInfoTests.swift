import Foundation
import Testing

@testable import KilnEngine

/// `EngineRunner.describeModel` (`python -m kiln_engine model-info`), behind `kiln models check`.
@Suite("Engine model-info (real Python engine)", .serialized, .enabled(if: EngineFixture.python != nil))
struct ModelInfoTests {
    @Test func describesTheTinyModelFolder() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-model-info-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let folder = try Self.tinyModelFolder(in: root)
        let described = try await EngineRunner(python: EngineFixture.python!).describeModel(folder: folder)
        #expect(described["ltx_file"]?.hasPrefix(folder) == true, "\(described)")
        #expect(described["layers"] != nil)
    }

    @Test func anEmptyFolderIsModelNotFound() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-model-info-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        await #expect {
            try await EngineRunner(python: EngineFixture.python!).describeModel(folder: root)
        } throws: { error in
            (error as? KilnEngineError)?.kind == .modelNotFound
        }
    }

    /// Writes the tiny model folder with the engine's own code and returns its path.
    static func tinyModelFolder(in root: String) throws -> String {
        let python = try #require(EngineFixture.python)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python.path)
        process.arguments = ["-c", "import sys; from kiln_engine.models.tiny import ensure_tiny_model; print(ensure_tiny_model(sys.argv[1], 0))", root]
        var environment = ProcessInfo.processInfo.environment
        if let engine = python.engineDirectory { environment["PYTHONPATH"] = engine }
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
}
