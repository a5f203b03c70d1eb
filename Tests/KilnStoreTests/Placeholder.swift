import Testing
@testable import KilnStore

@Suite struct KilnStorePlaceholderTests {
    @Test func moduleLoads() { #expect(Bool(true)) }
}
