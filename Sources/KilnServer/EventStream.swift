import Foundation
import Hummingbird

/// Builds a Server-Sent Events body that polls a source and writes each new event.
///
/// A comment line (`: keep-alive`) goes out whenever nothing was written for
/// `keepAlive`, so proxies and clients do not time the connection out; the stream ends
/// as soon as the source says it is done.
struct EventStream: Sendable {
    /// How often the source is asked for news.
    var pollInterval: Duration
    /// Longest silence before a keep-alive comment.
    var keepAlive: Duration

    /// One poll's answer: JSON objects to send, and whether the stream should close after them.
    struct Poll: Sendable {
        var events: [Data]
        var done: Bool
    }

    /// Encodes one event: a single `data:` line (JSON has no raw newlines) and a blank line.
    static func frame(_ json: Data) -> ByteBuffer {
        var buffer = ByteBuffer(string: "data: ")
        buffer.writeBytes(json)
        buffer.writeString("\n\n")
        return buffer
    }

    /// The response body; `poll` is called first at once, then every `pollInterval`.
    func body(_ poll: @escaping @Sendable () async throws -> Poll) -> ResponseBody {
        let pollInterval = self.pollInterval
        let keepAlive = self.keepAlive
        return ResponseBody { writer in
            let clock = ContinuousClock()
            var lastWrite = clock.now
            // An initial comment flushes headers so clients see the stream open at once.
            try await writer.write(ByteBuffer(string: ": stream open\n\n"))
            while true {
                let answer = try await poll()
                for event in answer.events {
                    try await writer.write(Self.frame(event))
                    lastWrite = clock.now
                }
                if answer.done { break }
                if clock.now - lastWrite >= keepAlive {
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    lastWrite = clock.now
                }
                try await Task.sleep(for: pollInterval)
            }
            try await writer.finish(nil)
        }
    }
}
