import Foundation

/// What a model folder holds, read from file names and safetensors headers only (no weights are
/// loaded): the LTX-2.3 checkpoint with each of its parts, and the Gemma text encoder.
public struct ModelFolderCheck: Sendable, Equatable {
    /// One thing the engine needs, and whether it is there.
    public struct Item: Sendable, Equatable {
        /// What it is (`transformer`, `video VAE`, ...).
        public var name: String
        /// Whether it was found.
        public var present: Bool
        /// Where, or what to do when it is missing.
        public var detail: String
    }

    /// The folder checked.
    public var folder: String
    /// Everything looked for, in order.
    public var items: [Item]

    /// Whether everything is present.
    public var isComplete: Bool { items.allSatisfy(\.present) }

    /// The parts of the LTX-2.3 file, by tensor-name prefix.
    static let parts: [(name: String, prefixes: [String])] = [
        ("transformer", ["model.diffusion_model."]),
        ("video VAE encoder", ["vae.encoder."]),
        ("video VAE decoder", ["vae.decoder."]),
        ("audio VAE", ["audio_vae."]),
        ("vocoder", ["vocoder."]),
        ("text projection", ["text_embedding_projection.", "model.diffusion_model.video_embeddings_connector."]),
    ]

    /// Checks `folder`.
    public init(folder: String) {
        self.folder = folder
        var items: [Item] = []
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            items.append(Item(name: "model folder", present: false, detail: "\(folder) is not a folder"))
            self.items = items
            return
        }
        let top = ((try? fm.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        let candidates = top.filter { $0.hasSuffix(".safetensors") }.map { (folder as NSString).appendingPathComponent($0) }
        let headers = candidates.compactMap { path in SafetensorsHeader(path: path).map { (path, $0) } }
        if let (path, header) = headers.first(where: { $0.1.metadata["config"] != nil }) {
            let size = (try? fm.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
            items.append(Item(name: "LTX-2.3 checkpoint", present: true,
                              detail: "\((path as NSString).lastPathComponent) (\(Self.bytes(size)), \(header.tensorNames.count) tensors)"))
            for part in Self.parts {
                let count = header.tensorNames.filter { name in part.prefixes.contains { name.hasPrefix($0) } }.count
                items.append(Item(name: part.name, present: count > 0,
                                  detail: count > 0 ? "\(count) tensors" : "no tensors named \(part.prefixes[0])*; the file is incomplete"))
            }
        } else {
            items.append(Item(
                name: "LTX-2.3 checkpoint", present: false,
                detail: candidates.isEmpty
                    ? "no .safetensors file in \(folder); put ltx-2.3-22b-dev.safetensors here"
                    : "no .safetensors file here has the `config` metadata of an LTX-2.3 checkpoint"))
        }
        let gemma = Self.find(named: ["tokenizer.model", "kiln_tiny_tokenizer.json"], under: folder)
        if let gemma {
            let root = (gemma as NSString).deletingLastPathComponent
            let weights = Self.find(prefix: "model", suffix: ".safetensors", under: root)
            items.append(Item(name: "Gemma tokenizer", present: true, detail: gemma))
            items.append(Item(name: "Gemma weights", present: weights != nil,
                              detail: weights ?? "no model*.safetensors next to \(gemma); download the Gemma 3 12B weights"))
        } else {
            items.append(Item(name: "Gemma text encoder", present: false,
                              detail: "no folder with tokenizer.model under \(folder); add the Gemma 3 12B folder (e.g. gemma-3-12b-it-qat-q4_0-unquantized)"))
        }
        self.items = items
    }

    static func find(named names: [String], under folder: String) -> String? {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return nil }
        var hits: [String] = []
        while let relative = walker.nextObject() as? String {
            if names.contains((relative as NSString).lastPathComponent) { hits.append(relative) }
        }
        return hits.sorted().first.map { (folder as NSString).appendingPathComponent($0) }
    }

    static func find(prefix: String, suffix: String, under folder: String) -> String? {
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return nil }
        while let relative = walker.nextObject() as? String {
            let name = (relative as NSString).lastPathComponent
            if name.hasPrefix(prefix) && name.hasSuffix(suffix) { return (folder as NSString).appendingPathComponent(relative) }
        }
        return nil
    }

    static func bytes(_ size: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(size)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(size) B" : String(format: "%.1f %@", value, units[unit])
    }
}

/// The JSON header of a `.safetensors` file: tensor names and the `__metadata__` strings.
struct SafetensorsHeader {
    var tensorNames: [String]
    var metadata: [String: String]

    /// Reads the header (8-byte little-endian length, then JSON); nil when the file is not safetensors.
    init?(path: String) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let lengthBytes = try? handle.read(upToCount: 8), lengthBytes.count == 8 else { return nil }
        let length = lengthBytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length > 1, length < 512 << 20, let json = try? handle.read(upToCount: Int(length)), json.count == Int(length),
              let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else { return nil }
        metadata = (object["__metadata__"] as? [String: String]) ?? [:]
        tensorNames = object.keys.filter { $0 != "__metadata__" }
    }
}
