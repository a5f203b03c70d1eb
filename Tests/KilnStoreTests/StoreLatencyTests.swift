import Foundation
import Testing
import KilnCore
@testable import KilnStore

/// The reads a status poll makes stay fast with a large queue (bench/api's 10k-job store).
@Suite struct StoreLatencyTests {
    @Test func statusReadsWithTenThousandQueuedJobs() throws {
        let folder = try TemporaryFolder()
        let store = try JobStore(path: folder.storePath)
        let clock = ContinuousClock()
        var ids: [UUID] = []
        let submitTime = try clock.measure {
            for _ in 0..<10_000 { ids.append(try store.submit(owner: "o", request: sampleRequest()).id) }
        }
        var latencies: [Duration] = []
        for index in stride(from: 0, to: ids.count, by: 20) {
            let id = ids[ids.count - 1 - index]
            latencies.append(try clock.measure {
                _ = try store.status(id: id, owner: "o")
                _ = try store.changeToken(id: id)
            })
        }
        latencies.sort()
        let p50 = latencies[latencies.count / 2], p99 = latencies[latencies.count * 99 / 100]
        print("10k submits: \(submitTime) (\(Int(10_000 / (Double(submitTime.components.seconds) + Double(submitTime.components.attoseconds) / 1e18))) per second); status reads p50 \(p50), p99 \(p99)")
        #expect(try store.queuePosition(id: ids.last!) == 9_999)
        #expect(try store.status(id: ids.last!, owner: "o")?.queuePosition == 9_999)
        // Loose bounds: a debug build on a shared 2-core machine, run beside every other suite;
        // they catch gross regressions only; bench/api measures the real numbers.
        #expect(p50 < .milliseconds(10))
        #expect(p99 < .milliseconds(200))
    }
}
