import Testing
@testable import KilnEngine

@Suite struct KilnEnginePlaceholderTests {
    @Test func moduleLoads() { #expect(Bool(true)) }
}
