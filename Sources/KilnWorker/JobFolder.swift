import Foundation

/// The work folder of one job, `<data>/jobs/<id>/`. Everything a resumed attempt reuses lives
/// here: the prepared dataset, the engine's checkpoints and the record of the last one.
public struct JobFolder: Sendable, Equatable {
    /// The folder itself.
    public var root: String

    /// The folder of job `id` under `jobsDirectory`.
    public init(jobsDirectory: String, id: UUID) {
        root = (jobsDirectory as NSString).appendingPathComponent(id.uuidString.lowercased())
    }

    /// A folder used as is (`kiln train --out`).
    public init(root: String) {
        self.root = root
    }

    func path(_ component: String) -> String { (root as NSString).appendingPathComponent(component) }

    /// `dataset/`, written by KilnDataset.
    public var dataset: String { path("dataset") }
    /// `dataset/manifest.jsonl`.
    public var manifest: String { (dataset as NSString).appendingPathComponent("manifest.jsonl") }
    /// `engine/`: the spec and the engine's output folder.
    public var engine: String { path("engine") }
    /// `engine/output/`: checkpoints and artifacts as the engine writes them.
    public var engineOutput: String { (engine as NSString).appendingPathComponent("output") }
    /// `inputs/`: the downloaded archive and validation images.
    public var inputs: String { path("inputs") }
    /// `outputs/`: the files a client downloads.
    public var outputs: String { path("outputs") }
    /// `state.json`: the last checkpoint the engine reported.
    public var stateFile: String { path("state.json") }

    /// What survives between attempts.
    struct State: Codable, Equatable {
        var lastCheckpoint: String?
        var checkpointStep: Int?
    }

    func readState() -> State {
        guard let data = FileManager.default.contents(atPath: stateFile),
              let state = try? JSONDecoder().decode(State.self, from: data) else { return State() }
        return state
    }

    func writeState(_ state: State) throws {
        let data = try JSONEncoder().encode(state)
        let temporary = stateFile + ".tmp"
        try data.write(to: URL(fileURLWithPath: temporary))
        // rename(2) is atomic: a SIGKILL leaves the old state or the new one, never half.
        guard rename(temporary, stateFile) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: stateFile])
        }
    }

    /// Whether a previous attempt left a complete dataset.
    var hasPreparedDataset: Bool { FileManager.default.fileExists(atPath: manifest) }

    func create() throws {
        for folder in [root, inputs, outputs, engine] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
    }

    /// Removes the whole folder (cancel, retention).
    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }
}
