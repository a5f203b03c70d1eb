import Foundation
import KilnCore
import KilnStore
import Testing
@testable import KilnWorker

extension WorkerEndToEnd {
    /// One real job through the real store, KilnDataset's pipeline and the Python engine on the tiny model.
    @Suite("Worker runs a job", .serialized)
    struct WorkerJobTests {
        @Test("a claimed job goes through every stage and its outputs become the owner's files")
        func runsOneJob() async throws {
            let temp = try TemporaryFolder()
            let data = temp.url.appendingPathComponent("data").path
            let store = try JobStore(dataDirectory: data)
            let base = "http://127.0.0.1:9"
            let zip = try SampleData.videoZip(in: temp.url)
            let url = try SampleData.upload(zip, owner: "key-a", store: store, dataDirectory: data, base: base)
            let submitted = try store.submit(
                owner: "key-a",
                request: SampleData.tinyRequest(url: url, steps: 4, validation: [ValidationPrompt(prompt: "a test pattern")], debug: true))
            let worker = try KilnWorker(store: store, configuration: testConfiguration(dataDirectory: data, base: base))
            let claimed = try #require(try store.claimNext(workerID: worker.configuration.workerID, leaseSeconds: 30))
            #expect(claimed.id == submitted.id)

            let stages = StageRecorder()
            let final = try #require(await worker.runClaimed(claimed, observer: { activity in
                if case .stage(let stage) = activity { stages.append(stage) }
            }))
            let logs = try store.logs(jobID: submitted.id).map(\.message)
            #expect(final.state == .succeeded, "logs: \(logs.joined(separator: "\n"))")
            #expect(stages.values == [.fetching, .preparingDataset, .encoding, .training, .validating, .exporting])
            #expect(final.inferenceTimeSeconds ?? 0 > 0)
            #expect(logs.contains { $0.hasPrefix("step 4/4") && $0.contains("loss") })

            let result = try #require(final.result)
            let object = try #require(try JSONSerialization.jsonObject(with: result) as? [String: Any])
            for key in ["lora_file", "config_file", "video", "debug_dataset"] {
                let file = try #require(object[key] as? [String: Any], "missing \(key) in \(object)")
                let fileURL = try #require(file["url"] as? String)
                #expect(fileURL.hasPrefix("\(base)/files/"))
                let parts = fileURL.split(separator: "/")
                let stored = try #require(try store.file(id: String(parts[parts.count - 2]), owner: "key-a"))
                #expect(try store.file(id: stored.id, owner: "key-b") == nil)
                let onDisk = try FileManager.default.attributesOfItem(
                    atPath: (data as NSString).appendingPathComponent(stored.relativePath))[.size] as? Int64
                #expect(file["file_size"] as? Int64 == onDisk)
                #expect(file["content_type"] as? String == stored.contentType)
            }
            #expect((object["video"] as? [String: Any])?["content_type"] as? String == "video/mp4")
            #expect(try store.files(jobID: submitted.id).count == 4)
        }
    }
}

/// Collects stages in order, without repeats.
final class StageRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var stages: [JobStage] = []
    func append(_ stage: JobStage) {
        lock.withLock { if stages.last != stage { stages.append(stage) } }
    }
    var values: [JobStage] { lock.withLock { stages } }
}
