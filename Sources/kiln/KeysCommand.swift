import ArgumentParser
import Foundation
import KilnCore
import KilnStore

/// `kiln keys`: create, list and revoke the API keys a server accepts.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage API keys (clients send `Authorization: Key ID:SECRET`).",
        discussion: """
            While no key exists, `kiln serve` runs in open local mode: every request is accepted \
            as the local user and the server only listens on loopback. Once a key exists, every \
            request needs one, and a key sees only its own jobs and files.
            """,
        subcommands: [Create.self, List.self, Revoke.self]
    )

    /// The data directory option shared by the subcommands.
    struct StoreOptions: ParsableArguments {
        @Option(name: .customLong("data-dir"),
                help: ArgumentHelp("Folder holding kiln.sqlite (default: $KILN_DATA_DIR or ~/.kiln).", valueName: "path"))
        var dataDirectory: String?

        func open() throws -> JobStore {
            let folder = dataDirectory.map(JobStore.expandingTilde) ?? JobStore.defaultDataDirectory()
            return try JobStore(dataDirectory: folder)
        }
    }

    /// `kiln keys create`.
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key and print `ID:SECRET` once; only a hash of the secret is stored.")

        @OptionGroup var store: StoreOptions

        @Option(help: "A label for the key, shown by `kiln keys list`.")
        var name: String?

        func run() throws {
            let key = try store.open().createKey(name: name)
            print(APIKeyCredential(id: key.id, secret: key.secret).token)
            FileHandle.standardError.write(Data(
                "Key \(key.id) created. Save the line above now: the secret cannot be shown again.\nUse it as: Authorization: Key ID:SECRET (or FAL_KEY=ID:SECRET for fal_client).\n".utf8))
        }
    }

    /// `kiln keys list`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (ids, names, dates; never secrets).")

        @OptionGroup var store: StoreOptions

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func run() throws {
            let keys = try store.open().listKeys()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.dateEncodingStrategy = .iso8601
                print(String(decoding: try encoder.encode(keys), as: UTF8.self))
                return
            }
            guard !keys.isEmpty else {
                print("No keys: the server runs in open local mode. Create one with `kiln keys create`.")
                return
            }
            let formatter = ISO8601DateFormatter()
            let rows = [["ID", "NAME", "CREATED", "STATUS"]] + keys.map { key in
                [key.id, key.name ?? "-", formatter.string(from: key.createdAt),
                 key.revokedAt.map { "revoked \(formatter.string(from: $0))" } ?? "active"]
            }
            let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
        }
    }

    /// `kiln keys revoke`.
    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key; requests using it get 401 from then on.")

        @OptionGroup var store: StoreOptions

        @Argument(help: "The key id (the part before the colon).")
        var id: String

        func run() throws {
            let keyID = id.split(separator: ":", maxSplits: 1).first.map(String.init) ?? id
            guard try store.open().revokeKey(id: keyID) else {
                throw ValidationError("no key with id \(keyID); see `kiln keys list`")
            }
            print("Revoked \(keyID).")
        }
    }
}
