import Foundation
import Testing

@testable import KilnEngine

@Suite("Python locator")
struct PythonLocatorTests {
    /// A throwaway folder tree: `<root>/.venv/bin/python` (executable) and `<root>/engine/kiln_engine/__init__.py`.
    private func makeCheckout() throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-locator-\(UUID().uuidString)").path
        let fm = FileManager.default
        try fm.createDirectory(atPath: root + "/.venv/bin", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/engine/kiln_engine", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/jobs/abc", withIntermediateDirectories: true)
        _ = fm.createFile(atPath: root + "/.venv/bin/python", contents: Data("#!/bin/sh\n".utf8), attributes: [.posixPermissions: 0o755])
        _ = fm.createFile(atPath: root + "/engine/kiln_engine/__init__.py", contents: Data())
        return root
    }

    @Test func explicitKilnPythonWins() throws {
        let root = try makeCheckout()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let found = try PythonLocator(
            environment: ["KILN_PYTHON": root + "/.venv/bin/python"], workingDirectory: "/", executablePath: nil
        ).locate()
        #expect(found == PythonInterpreter(path: root + "/.venv/bin/python", engineDirectory: root + "/engine"))
    }

    @Test func explicitKilnPythonThatDoesNotExistFails() {
        #expect(throws: KilnEngineError.self) {
            try PythonLocator(environment: ["KILN_PYTHON": "/nonexistent/python"], workingDirectory: "/", executablePath: nil)
                .locate()
        }
    }

    @Test func venvFoundWalkingUpFromTheWorkingDirectory() throws {
        let root = try makeCheckout()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let found = try PythonLocator(environment: ["PATH": ""], workingDirectory: root + "/jobs/abc", executablePath: nil)
            .locate()
        #expect(found.path == root + "/.venv/bin/python")
        #expect(found.engineDirectory == root + "/engine")
    }

    @Test func venvFoundNextToTheExecutable() throws {
        let root = try makeCheckout()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let found = try PythonLocator(
            environment: ["PATH": ""], workingDirectory: "/", executablePath: root + "/.build/debug/kiln"
        ).locate()
        #expect(found.path == root + "/.venv/bin/python")
    }

    @Test func fallsBackToPython3OnPath() throws {
        let found = try PythonLocator(environment: ["PATH": "/usr/bin:/bin"], workingDirectory: "/", executablePath: nil)
            .locate()
        #expect(found.path.hasSuffix("/python3"))
        #expect(found.engineDirectory == nil)
    }

    @Test func nothingFoundSaysWhatToDo() {
        do {
            _ = try PythonLocator(environment: ["PATH": "/nonexistent"], workingDirectory: "/", executablePath: nil).locate()
            Issue.record("expected pythonNotFound")
        } catch {
            #expect(error.description.contains("make setup"))
            #expect(error.description.contains("KILN_PYTHON"))
        }
    }
}
