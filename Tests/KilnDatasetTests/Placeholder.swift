import Testing
@testable import KilnDataset

@Suite struct KilnDatasetPlaceholderTests {
    @Test func moduleLoads() { #expect(Bool(true)) }
}
