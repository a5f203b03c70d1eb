import Testing
@testable import KilnWorker

@Suite struct KilnWorkerPlaceholderTests {
    @Test func moduleLoads() { #expect(Bool(true)) }
}
