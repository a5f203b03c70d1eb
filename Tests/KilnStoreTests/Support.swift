import Foundation
import KilnCore
@testable import KilnStore

/// A fresh temporary folder, removed when the value is released.
final class TemporaryFolder: @unchecked Sendable {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("kiln-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    var storePath: String { url.appendingPathComponent("kiln.sqlite").path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A request with every default and `steps` steps.
func sampleRequest(steps: Int = 2000) -> TrainingRequest {
    TrainingRequest(trainingDataURL: "https://example.com/data.zip", numberOfSteps: steps)
}
