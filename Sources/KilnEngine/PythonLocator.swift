import Foundation

/// The interpreter that runs `python -m kiln_engine`, and where the engine's sources live.
public struct PythonInterpreter: Sendable, Equatable {
    /// Absolute path of the `python` executable.
    public var path: String
    /// The repository's `engine/` folder when one was found next to the venv; put on
    /// `PYTHONPATH` so a checkout works even if the package was not installed into the venv.
    public var engineDirectory: String?

    /// Creates an interpreter value.
    public init(path: String, engineDirectory: String? = nil) {
        self.path = path
        self.engineDirectory = engineDirectory
    }
}

/// Finds the engine's Python: `KILN_PYTHON`, else `<repo>/.venv/bin/python` found by walking up
/// from the working directory and from the running executable, else `python3` on `PATH`.
public struct PythonLocator: Sendable {
    /// Environment variables to read (`KILN_PYTHON`, `PATH`).
    public var environment: [String: String]
    /// Folder to start the upward search from.
    public var workingDirectory: String
    /// Path of the running executable (`.build/debug/kiln` inside a checkout), searched upward too.
    public var executablePath: String?

    /// Creates a locator; the defaults describe the current process.
    public init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath,
        executablePath: String? = CommandLine.arguments.first.map { URL(fileURLWithPath: $0).path }
    ) {
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.executablePath = executablePath
    }

    /// Returns the interpreter to use, or throws ``KilnEngineError/pythonNotFound(searched:)``.
    public func locate() throws(KilnEngineError) -> PythonInterpreter {
        var searched: [String] = []
        if let explicit = environment["KILN_PYTHON"], !explicit.isEmpty {
            // An explicit choice that is wrong must fail loudly, not fall back to another Python.
            guard Self.isExecutable(explicit) else {
                throw .pythonNotFound(searched: ["KILN_PYTHON=\(explicit) (not an executable file)"])
            }
            return PythonInterpreter(path: explicit, engineDirectory: repositoryRoot(near: explicit).map(Self.engineFolder))
        }
        var starts = [workingDirectory]
        if let executablePath { starts.append((executablePath as NSString).deletingLastPathComponent) }
        for start in starts {
            var folder = URL(fileURLWithPath: start).standardizedFileURL.path
            while true {
                let candidate = folder + "/.venv/bin/python"
                searched.append(candidate)
                if Self.isExecutable(candidate) {
                    return PythonInterpreter(path: candidate, engineDirectory: Self.engineFolderIfPresent(root: folder))
                }
                let parent = (folder as NSString).deletingLastPathComponent
                if parent == folder || parent.isEmpty { break }
                folder = parent
            }
        }
        for dir in (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(dir)/python3"
            searched.append(candidate)
            if Self.isExecutable(candidate) { return PythonInterpreter(path: candidate) }
        }
        throw .pythonNotFound(searched: Array(searched.suffix(8)))
    }

    private func repositoryRoot(near python: String) -> String? {
        // <root>/.venv/bin/python -> <root>
        let bin = (python as NSString).deletingLastPathComponent
        let venv = (bin as NSString).deletingLastPathComponent
        guard (venv as NSString).lastPathComponent == ".venv" else { return nil }
        let root = (venv as NSString).deletingLastPathComponent
        return Self.engineFolderIfPresent(root: root) == nil ? nil : root
    }

    private static func engineFolder(root: String) -> String { root + "/engine" }

    private static func engineFolderIfPresent(root: String) -> String? {
        let engine = engineFolder(root: root)
        return FileManager.default.fileExists(atPath: engine + "/kiln_engine/__init__.py") ? engine : nil
    }

    static func isExecutable(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
            && FileManager.default.isExecutableFile(atPath: path)
    }
}
